// readCheckpoint against what real PyTorch saved: every tensor's bytes, dtype and shape, in both
// container formats, every dtype, views, shared storages, 0-d/empty tensors and metadata values.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { readCheckpoint, readCheckpointBytes } from '../../src/checkpoint/read.js';
import { CheckpointTensor } from '../../src/checkpoint/storage.js';
import { OrderedDict, PyInstance } from '../../src/checkpoint/pyobjects.js';
import { at, expected, fixture, type Expected } from './helpers.js';

function countTensors(x: unknown, seen = new Set<unknown>()): number {
  if (seen.has(x)) return 0;
  if (typeof x === 'object' && x !== null) seen.add(x);
  if (x instanceof CheckpointTensor) return 1;
  if (x instanceof Map) return [...x.values()].reduce((n: number, v) => n + countTensors(v, seen), 0);
  if (Array.isArray(x)) return x.reduce((n: number, v) => n + countTensors(v, seen), 0);
  return 0;
}

function assertMatches(file: string, exp: Expected): void {
  const ckpt = readCheckpoint(fixture(file));
  assert.equal(ckpt.format, exp.format);
  assert.equal(ckpt.protocol, exp.protocol);
  assert.deepEqual(ckpt.warnings, []);
  for (const e of exp.tensors) {
    const t = at(ckpt.object, e.path);
    const name = e.path.join('.');
    assert.ok(t instanceof CheckpointTensor, `${name} is a tensor`);
    assert.equal(t.dtype, e.dtype, `${name} dtype`);
    assert.deepEqual(t.shape, e.shape, `${name} shape`);
    assert.equal(t.isParameter, e.isParameter, `${name} isParameter`);
    const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    assert.ok(bytes.equals(Buffer.from(e.data, 'base64')), `${name} values differ from PyTorch's`);
  }
  // Shared tensors count once per distinct object, as torch.load builds them.
  assert.ok(countTensors(ckpt.object) <= exp.tensors.length);
}

const GOOD = ['dtypes', 'dtypes_legacy', 'wrap_state_dict', 'wrap_model_p4', 'wrap_model_p1_legacy', 'dataparallel_legacy',
  'dataparallel_in_state_dict', 'parameters', 'detector', 'two_candidates', 'renamed_folder', 'deflated',
  // torch >= 2.1's byteorder record (added to a torch 1.13 file), bfloat16, and zip64 records throughout
  'bf16', 'byteorder_little', 'zip64'];

for (const name of GOOD) {
  test(`${name}.pth: every tensor equals what PyTorch saved`, () => assertMatches(`${name}.pth`, expected(name)));
}

test('a big-endian zip checkpoint (byteorder "big") reads to the same values', () => {
  assertMatches('dtypes_big_endian.pth', expected('dtypes'));
});

test('contiguous aligned tensors share the file buffer; views of one storage alias each other', () => {
  const { object } = readCheckpoint(fixture('dtypes.pth'));
  const d = object as Map<string, CheckpointTensor>;
  const full = d.get('shared_full')!;
  const row = d.get('shared_row')!;
  assert.equal(row.data.buffer, full.data.buffer);
  assert.equal(row.data.byteOffset, full.data.byteOffset + 2 * 6 * 4);
  assert.notEqual(d.get('shared_col')!.data.buffer, full.data.buffer, 'a strided view is copied');
});

test('OrderedDict keeps its _metadata; Python metadata values come through', () => {
  const { object } = readCheckpoint(fixture('wrap_state_dict.pth'));
  const sd = at(object, ['state_dict']);
  assert.ok(sd instanceof OrderedDict);
  const md = sd.attrs.get('_metadata') as Map<string, Map<string, unknown>>;
  assert.deepEqual([...md.keys()], ['', 'stem', 'stem.0', 'stem.1', 'stem.2', 'dw', 'head']);
  assert.equal(md.get('stem.1')!.get('version'), 2);
  assert.deepEqual(at(object, ['meta', 'seen']), new Set([1, 2]));
});

for (const name of ['wrap_model_p4', 'wrap_model_p1_legacy']) {
  test(`${name}.pth: numpy scalars, argparse.Namespace, big ints, bytes, torch.device`, () => {
    const { object } = readCheckpoint(fixture(`${name}.pth`));
    for (const [path, value] of Object.entries(expected(name).values!)) {
      const got = at(object, path.split('.'));
      assert.deepEqual(typeof got === 'bigint' ? String(got) : got, value, path);
    }
    assert.deepEqual(at(object, ['blob']), new Uint8Array([0, 255]));
    assert.ok(at(object, ['args']) instanceof PyInstance);
  });
}

test('readCheckpointBytes leaves the caller\'s bytes untouched (legacy storages are realigned only in owned buffers)', () => {
  const bytes = readFileSync(fixture('dtypes_legacy.pth'));
  const copy = Buffer.from(bytes);
  const { object } = readCheckpointBytes(bytes, 'dtypes_legacy.pth');
  assert.ok(bytes.equals(copy));
  const f64 = (object as Map<string, CheckpointTensor>).get('f64')!;
  const want = expected('dtypes_legacy').tensors.find((t) => t.path[0] === 'f64')!;
  assert.ok(Buffer.from(f64.data.buffer, f64.data.byteOffset, f64.data.byteLength).equals(Buffer.from(want.data, 'base64')));
});
