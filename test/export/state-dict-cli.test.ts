// `torchport export --format pth|safetensors` as a process: a converted folder and a fine-tuning
// run's `latest/` and `best/` (real `torchport finetune` output) back to torchvision's and
// mmdetection's layouts, and bad input as one line with exit 2 that leaves no file behind and an
// existing output untouched.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readCheckpoint } from '../../src/checkpoint/read.js';
import type { StateDict } from '../../src/checkpoint/types.js';
import { writeShapesDataset } from '../../src/data/shapes.js';
import { readTfjsWeights } from '../../src/io/tfjs-weights.js';
import { convertCheckpoint } from '../../src/models/convert.js';
import { differences, stateDictOf } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURE = join(ROOT, 'fixtures', 'fasterrcnn');
const work = mkdtempSync(join(tmpdir(), 'torchport-export-cli-'));
const converted = join(work, 'converted');
const run = join(work, 'run');
after(() => rmSync(work, { recursive: true, force: true }));

const torchport = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'torchport.js'), ...args], { cwd: ROOT, encoding: 'utf8' });

before(async () => {
  assert.ok((await convertCheckpoint(join(FIXTURE, 'model.pth'), converted)).written);
  const data = join(work, 'shapes');
  await writeShapesDataset(data, { train: 4, val: 2, size: 96, seed: 5, maxShapes: 2 });
  const r = torchport(
    'finetune', '--config', 'configs/faster-rcnn_mobilenetv3-large-320-fpn_shapes-demo.js', '--data', data, '--work-dir', run, '--backend', 'wasm',
    '--cfg-options', 'model.backbone.widthMult=0.35', 'model.neck.outChannels=32', 'model.roiHead.representationSize=64',
    `load_from=${join(FIXTURE, 'model.pth')}`, 'data.batchSize=2', 'trainCfg.maxEpochs=1', 'trainCfg.valInterval=1',
  );
  assert.equal(r.status, 0, r.stderr);
});

/** Same keys in the same order, dtypes and shapes (values may differ). */
function sameLayout(a: StateDict, b: StateDict): string[] {
  return differences(a, b).filter((d) => !d.endsWith(': bytes differ'));
}

const weightsOf = (dir: string) => new Map(readTfjsWeights(dir).weights.map((w) => [w.name, Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength)]));

test('a converted folder exports as the checkpoint it came from; the line says how the keys were named', () => {
  const out = join(work, 'det.pth');
  const r = torchport('export', converted, '--format', 'pth', '--out', out);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `wrote ${out}: 330 tensors in layout torchvision-fasterrcnn (the converted checkpoint's own keys, dtypes and bytes)\n`);
  assert.deepEqual(differences(stateDictOf(join(FIXTURE, 'model.pth')), stateDictOf(out)), []);
});

for (const folder of ['latest', 'best']) {
  test(`a fine-tuning ${folder}/ exports to torchvision's keys, dtypes and shapes with the trained weights`, async () => {
    const dir = join(run, folder);
    const out = join(work, `${folder}.pth`);
    const r = torchport('export', dir, '--format', 'pth', '--out', out);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `wrote ${out}: 330 tensors in layout torchvision-fasterrcnn (keys from the layout's rules)\n`);
    const original = stateDictOf(join(FIXTURE, 'model.pth'));
    const exported = stateDictOf(out);
    assert.deepEqual(sameLayout(original, exported), []);
    assert.ok(differences(original, exported).some((d) => d.endsWith(': bytes differ')), 'training changed the weights');
    // converting the export gives back the fine-tuned weights bit for bit
    const back = join(work, `${folder}_back`);
    assert.ok((await convertCheckpoint(out, back)).written);
    const want = weightsOf(dir);
    const got = weightsOf(back);
    assert.equal(got.size, want.size);
    for (const [name, bytes] of want) assert.ok(got.get(name)?.equals(bytes), name);
  });
}

test('a fine-tuning best/ exports to mmdetection ({meta, state_dict}, its keys, its class order) and to safetensors', () => {
  const out = join(work, 'best_mmdet.pth');
  const r = torchport('export', join(run, 'best'), '--format', 'pth', '--layout', 'mmdet', '--out', out);
  assert.equal(r.status, 0, r.stderr);
  const top = readCheckpoint(out).object as Map<string, unknown>;
  assert.deepEqual([...top.keys()], ['meta', 'state_dict']);
  const meta = top.get('meta') as Map<string, unknown>;
  assert.equal(meta.get('layout'), 'mmdet-fasterrcnn');
  assert.deepEqual(meta.get('CLASSES'), ['rectangle', 'ellipse', 'triangle']);
  assert.deepEqual(sameLayout(stateDictOf(join(FIXTURE, 'model_mmdet.pth')), stateDictOf(out, 'state_dict')), []);
  const st = join(work, 'best.safetensors');
  assert.equal(torchport('export', join(run, 'best'), '--format', 'safetensors', '--out', st).status, 0);
  const raw = readFileSync(st);
  const header = JSON.parse(raw.toString('utf8', 8, 8 + Number(raw.readBigUInt64LE(0))));
  assert.deepEqual(header.__metadata__, { format: 'pt', exported_by: header.__metadata__.exported_by, layout: 'torchvision-fasterrcnn', classes: '["rectangle","ellipse","triangle"]' });
  assert.deepEqual(differences(stateDictOf(join(work, 'best.pth')), stateDictOf(st)), []);
});

test('bad input: one line naming the folder, exit 2, no file written and an existing output untouched', () => {
  const noModel = join(work, 'empty');
  mkdirSync(noModel);
  const truncated = join(work, 'truncated');
  mkdirSync(truncated);
  for (const f of readdirSync(converted)) copyFileSync(join(converted, f), join(truncated, f));
  truncateSync(join(truncated, 'group1-shard1of1.bin'), 1000);
  const outDir = join(work, 'outputs');
  mkdirSync(outDir);
  const existing = join(outDir, 'keep.pth');
  writeFileSync(existing, 'previous contents');
  for (const [args, message] of [
    [[converted, '--format', 'pth', '--layout', 'dli14'], `torchport: ${converted}: layout 'dli14' cannot hold this model: no dli14 mapping targets fasterrcnn_mobilenet_v3_large_fpn (dli14 mappings hold: mobilenetv3_large, mobilenetv3_small)`],
    [[converted, '--format', 'safetensors', '--layout', 'caffe'], "torchport: unknown layout 'caffe' (known: torchvision, mmdet, dli14, timm)"],
    [[converted, '--format', 'pth', '--dtype', 'int8'], "torchport: unknown dtype 'int8' (known: source, float32, float16, bfloat16)"],
    [[converted, '--format', 'onnx'], "torchport: unknown --format 'onnx' (known: pth, safetensors, graph-model)"],
    [[noModel, '--format', 'pth'], `torchport: ${noModel}: no model.json here: not a folder written by \`torchport convert\` or \`torchport finetune\``],
    [[join(work, 'nowhere'), '--format', 'pth'], `torchport: ${join(work, 'nowhere')}: no such folder`],
    [[truncated, '--format', 'pth'], `torchport: ${truncated}: the shards hold 1000 bytes, fewer than the weights listed need (truncated at 'backbone.features.1.dw.conv.weight')`],
  ] as Array<[string[], string]>) {
    const r = torchport('export', ...args, '--out', existing);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr, `${message}\n`);
    assert.equal(r.stdout, '');
    assert.equal(readFileSync(existing, 'utf8'), 'previous contents');
    assert.deepEqual(readdirSync(outDir), ['keep.pth'], 'no temporary file left');
    const fresh = join(outDir, 'fresh.pth');
    assert.equal(torchport('export', ...args, '--out', fresh).status, 2);
    assert.ok(!existsSync(fresh));
  }
});
