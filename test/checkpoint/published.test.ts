// Checkpoints shaped like the ones people publish, written by real PyTorch (gen_checkpoints_published.py):
// whole pickled models (legacy and zip), a YOLOv5-style dict with fp16 `model`/`ema` modules, a
// Lightning-style .ckpt, numpy arrays and Python containers, quantized tensors. Values are compared
// bit for bit with what torch.load and `model.state_dict()` gave.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { extractStateDict } from '../../src/checkpoint/extract.js';
import { NumpyArray } from '../../src/checkpoint/numpy-objects.js';
import { PyInstance } from '../../src/checkpoint/pyobjects.js';
import { readCheckpoint } from '../../src/checkpoint/read.js';
import { CheckpointTensor, QuantizedTensor } from '../../src/checkpoint/storage.js';
import type { TorchTensor } from '../../src/checkpoint/types.js';
import { at, fixture } from './helpers.js';

interface Bytes { dtype: string; shape: number[]; data: string }
interface StateDictJson { source: string; keys: string[]; tensors: Record<string, Bytes> }
interface Published {
  format: 'zip' | 'legacy';
  protocol: number;
  /** Every tensor torch.load gives, reachable through dicts, lists and tuples. */
  tensors: Array<Bytes & { path: string[] }>;
  stateDict?: StateDictJson;
  modelStateDict?: StateDictJson;
  values?: Record<string, unknown>;
  warnings?: string[];
  arrays?: Record<string, Bytes>;
  stateDictKeys?: string[];
  quantized?: Record<string, Bytes & { intRepr: string; dequantized: string; scheme: string; scale?: number; zeroPoint?: number; scales?: number[]; zeroPoints?: number[]; axis?: number }>;
}

const published = (name: string): Published => JSON.parse(readFileSync(fixture(`${name}.expected.json`), 'utf8')) as Published;
const bytesOf = (t: { data: ArrayBufferView }): Buffer => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
const placeholderWarnings = (names: string[]): string[] => names.map((g) => `unknown global '${g}' kept as an inert placeholder`);

/** Every tensor torch.load returned, found at its path, bit for bit. */
function assertTensors(object: unknown, exp: Published): void {
  for (const e of exp.tensors) {
    const t = at(object, e.path);
    const name = e.path.join('.');
    assert.ok(t instanceof CheckpointTensor, `${name} is a tensor`);
    assert.equal(t.dtype, e.dtype, name);
    assert.deepEqual(t.shape, e.shape, name);
    assert.ok(bytesOf(t).equals(Buffer.from(e.data, 'base64')), `${name} differs from torch.load's`);
  }
}

function assertStateDict(got: Map<string, TorchTensor>, exp: StateDictJson): void {
  assert.deepEqual([...got.keys()], exp.keys);
  for (const [key, e] of Object.entries(exp.tensors)) {
    const t = got.get(key)!;
    assert.equal(t.dtype, e.dtype, key);
    assert.deepEqual(t.shape, e.shape, key);
    assert.ok(bytesOf(t).equals(Buffer.from(e.data, 'base64')), `${key} differs from model.state_dict()`);
  }
}

for (const name of ['whole_model_legacy', 'whole_model']) {
  test(`${name}.pth: a whole pickled model gives model.state_dict(), its classes named as placeholders`, () => {
    const exp = published(name);
    const ckpt = readCheckpoint(fixture(`${name}.pth`));
    assert.equal(ckpt.format, exp.format);
    assert.deepEqual(ckpt.warnings, placeholderWarnings(exp.warnings!));
    assert.ok(ckpt.object instanceof PyInstance && ckpt.object.className === 'models.yolo.Model');
    const got = extractStateDict(ckpt.object);
    assert.equal(got.source, '<root>');
    assert.deepEqual(got.notes, [`rebuilt the state dict of the pickled models.yolo.Model in the file as model.state_dict() would (${exp.stateDict!.keys.length} entries; nothing was imported or run)`]);
    // The non-persistent buffer (grid_cache) and the plain tensor attribute (stride) are left out, as torch does.
    assert.ok(!got.stateDict.has('model.2.grid_cache') && got.stateDict.has('model.2.anchors'));
    assertStateDict(got.stateDict, exp.stateDict!);
    assert.throws(() => readCheckpoint(fixture(`${name}.pth`), { strict: true }), { message: /refusing to read under --strict: it references 'models\.yolo\.Model'/ });
  });
}

test('yolo_style.pth: fp16 model and ema modules; ema is preferred, --key model takes the other', () => {
  const exp = published('yolo_style');
  const ckpt = readCheckpoint(fixture('yolo_style.pth'));
  assert.deepEqual(ckpt.warnings, placeholderWarnings(exp.warnings!));
  const ema = extractStateDict(ckpt.object);
  assert.equal(ema.source, 'ema');
  assert.equal(ema.notes[0], "took 'ema' over 'model' (the EMA weights, as YOLOv5's loader does; --key model takes the other)");
  assertStateDict(ema.stateDict, exp.stateDict!);
  assert.equal(ema.stateDict.get('model.0.conv.weight')!.dtype, 'float16');
  const model = extractStateDict(ckpt.object, { key: 'model' });
  assert.equal(model.source, 'model');
  assertStateDict(model.stateDict, exp.modelStateDict!);
  for (const [path, value] of Object.entries(exp.values!)) assert.deepEqual(at(ckpt.object, path.split('.')), value, path);
  assertTensors(ckpt.object, exp);
  // The whole optimizer object is an inert placeholder; its state is a defaultdict keyed by parameters.
  const opt = at(ckpt.object, ['optimizer']);
  assert.ok(opt instanceof PyInstance && opt.placeholder && opt.className === 'torch.optim.sgd.SGD');
  assert.ok(opt.attrs.get('state') instanceof Map);
});

test('lightning.pth: state_dict, callbacks, hyper_parameters and optimizer_states without any flag', () => {
  const exp = published('lightning');
  const ckpt = readCheckpoint(fixture('lightning.pth'));
  assert.deepEqual(ckpt.warnings, placeholderWarnings(exp.warnings!));
  const got = extractStateDict(ckpt.object);
  assert.equal(got.source, 'state_dict');
  assert.deepEqual([...got.stateDict.keys()], exp.stateDictKeys);
  for (const [path, value] of Object.entries(exp.values!)) assert.deepEqual(at(ckpt.object, path.split('.')), value, path);
  assert.ok(exp.tensors.length > got.stateDict.size, 'state dict, optimizer state and callback tensors');
  assertTensors(ckpt.object, exp);
  const hp = at(ckpt.object, ['hyper_parameters']);
  assert.ok(hp instanceof PyInstance && hp.className === 'lightning.fabric.utilities.data.AttributeDict');
  assert.deepEqual(Object.fromEntries(hp.dictItems!), { lr: 1e-3, backbone: 'mobilenet_v3_large', num_classes: 2 });
  assert.ok(at(ckpt.object, ['optimizer_states', '0', 'param_groups']) instanceof Array);
  const best = at(ckpt.object, ['callbacks', "ModelCheckpoint{'monitor': 'val_loss'}", 'best_model_score']);
  assert.ok(best instanceof CheckpointTensor && (best.data as Float32Array)[0] === 0.25);
});

for (const name of ['python_data', 'python_data_legacy', 'python_data_numpy2']) {
  test(`${name}.pth: numpy arrays and scalars, collections and builtins decode as data`, () => {
    const exp = published(name === 'python_data_numpy2' ? 'python_data' : name);
    const ckpt = readCheckpoint(fixture(`${name}.pth`), { strict: true });
    assert.deepEqual(ckpt.warnings, []);
    for (const [key, e] of Object.entries(exp.arrays!)) {
      const a = at(ckpt.object, ['arrays', key]);
      assert.ok(a instanceof NumpyArray, key);
      assert.equal(a.dtype, e.dtype === 'bool' ? 'bool' : e.dtype, key);
      assert.deepEqual(a.shape, e.shape, key);
      assert.ok(bytesOf(a as { data: ArrayBufferView }).equals(Buffer.from(e.data, 'base64')), `${key} differs from numpy's`);
    }
    for (const [path, value] of Object.entries(exp.values!)) assert.deepEqual(at(ckpt.object, path.split('.')), value, path);
    assertTensors(ckpt.object, exp);
    const o = ckpt.object as Map<string, unknown>;
    assert.deepEqual(o.get('set'), new Set([1, 2]));
    assert.deepEqual(o.get('frozenset'), new Set([3]));
    assert.deepEqual(o.get('bytearray'), new Uint8Array([1, 2]));
    for (const [key, args] of [['slice', [1, 9, 2]], ['complex', [1.5, -2]], ['range', [2, 8, 3]]] as const) {
      const x = o.get(key);
      assert.ok(x instanceof PyInstance && !x.placeholder && x.className === `builtins.${key}`, key);
      assert.deepEqual(x.args, args, key);
    }
  });
}

test('quantized.pth (gen_checkpoints.py): a per-tensor quint8 tensor reads with its parameters', () => {
  const q = (readCheckpoint(fixture('quantized.pth')).object as Map<string, unknown>).get('q');
  assert.ok(q instanceof QuantizedTensor);
  assert.deepEqual([q.dtype, q.shape, q.scheme, q.scale, q.zeroPoint], ['quint8', [4], 'per_tensor_affine', 0.1, 0]);
});

test('quantized_tensors.pth: integer representation, scale, zero point and axis; dequantized like torch', () => {
  const exp = published('quantized_tensors');
  const { object } = readCheckpoint(fixture('quantized_tensors.pth'));
  const d = object as Map<string, unknown>;
  for (const [key, e] of Object.entries(exp.quantized!)) {
    const q = d.get(key);
    assert.ok(q instanceof QuantizedTensor, key);
    assert.equal(q.dtype, e.dtype, key);
    assert.deepEqual(q.shape, e.shape, key);
    assert.equal(q.scheme, e.scheme, key);
    assert.ok(bytesOf(q.intRepr).equals(Buffer.from(e.intRepr, 'base64')), `${key} int_repr()`);
    if (e.scheme === 'per_tensor_affine') assert.deepEqual([q.scale, q.zeroPoint], [e.scale, e.zeroPoint], key);
    else assert.deepEqual([q.scale, q.zeroPoint, q.axis], [e.scales, e.zeroPoints, e.axis], key);
    assert.ok(bytesOf(q.dequantize()).equals(Buffer.from(e.dequantized, 'base64')), `${key} dequantize()`);
  }
  const ex = extractStateDict(object);
  assert.equal(ex.stateDict.get('per_channel_qint8')!.dtype, 'float32');
  assert.equal(ex.quantized.get('per_channel_qint8')!.describe(), 'qint8, per-channel affine, axis 0, 3 scales and zero points');
  assert.equal(ex.quantized.get('per_tensor_quint8')!.describe(), 'quint8, per-tensor affine, scale 0.05, zero point 10');
  assert.match(ex.notes[0], /^dequantized 5 quantized tensors to float32 as \(q - zero_point\) × scale: per_tensor_quint8, /);
});
