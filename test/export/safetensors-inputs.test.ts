// A safetensors file is read wherever a .pth is: `inspect`, `diff` and `convert` as processes, and
// fine-tuning's `init_cfg` (a float16 backbone) and `load_from` (a whole detector), which start from
// exactly the weights the .pth files they were exported from give.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { exportStateDict } from '../../src/export/write.js';
import { convertCheckpoint } from '../../src/models/convert.js';
import { createFasterRCNN } from '../../src/models/faster-rcnn/faster-rcnn.js';
import { torchvisionDetectorConfig } from '../../src/models/detectors/torchvision.js';
import type { WeightSource } from '../../src/config/weights.js';
import { loadInitialWeights } from '../../src/train/init-weights.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURE = join(ROOT, 'fixtures', 'fasterrcnn');
const work = mkdtempSync(join(tmpdir(), 'torchport-st-inputs-'));
const detectorSt = join(work, 'detector.safetensors');
const backboneSt = join(work, 'backbone_f16.safetensors');
after(() => rmSync(work, { recursive: true, force: true }));

before(async () => {
  await tf.setBackend('cpu');
  for (const [source, out] of [['model.pth', detectorSt], ['backbone_f16.pth', backboneSt]]) {
    const dir = join(work, source.replace(/\W/g, '_'));
    assert.ok((await convertCheckpoint(join(FIXTURE, source), dir)).written);
    exportStateDict(dir, out, { format: 'safetensors' });
  }
});

const torchport = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'torchport.js'), ...args], { cwd: ROOT, encoding: 'utf8' });

test('inspect reads a safetensors file like the .pth it came from', () => {
  const st = torchport('inspect', detectorSt);
  const pth = torchport('inspect', join(FIXTURE, 'model.pth'));
  assert.equal(st.status, 0, st.stderr);
  assert.match(st.stdout, /^format\s+safetensors/m);
  // same tensors, parameters and bytes; only the file and format lines differ
  const body = (s: string) => s.split('\n').filter((l) => !/^(file|format)\s/.test(l)).join('\n');
  assert.equal(body(st.stdout), body(pth.stdout));
});

test('diff and convert read a safetensors file: the same mapping and the same converted bytes as the .pth', () => {
  const d = torchport('diff', detectorSt);
  assert.equal(d.status, 0, d.stderr);
  assert.match(d.stdout, /^mapping: torchvision-fasterrcnn → /);
  assert.match(d.stdout, /^summary: 284 matched, 0 missing, 0 unexpected, 0 shape mismatches, 46 ignored/m);
  assert.equal(d.stdout.replaceAll(detectorSt, 'FILE'), torchport('diff', join(FIXTURE, 'model.pth')).stdout.replaceAll(join(FIXTURE, 'model.pth'), 'FILE'));
  const a = join(work, 'cli_from_pth');
  const b = join(work, 'cli_from_st');
  for (const [src, out] of [[join(FIXTURE, 'model.pth'), a], [detectorSt, b]]) {
    const r = torchport('convert', src, '--out', out);
    assert.equal(r.status, 0, r.stderr);
  }
  assert.ok(readFileSync(join(a, 'group1-shard1of1.bin')).equals(readFileSync(join(b, 'group1-shard1of1.bin'))));
});

const REDUCED = { widthMult: 0.35, fpnChannels: 32, representationSize: 64 };

function startingWeights(source: WeightSource): { weights: Map<string, Float32Array>; log: string[] } {
  const detector = createFasterRCNN(torchvisionDetectorConfig('fasterrcnn_mobilenet_v3_large_320_fpn', { ...REDUCED, numClasses: 4 }));
  const { weights, log } = loadInitialWeights(detector, [source], 0);
  const out = new Map(Object.entries(weights).map(([k, t]) => [k, t.dataSync() as Float32Array]));
  tf.dispose(Object.values(weights));
  return { weights: out, log };
}

for (const [origin, target, pth, st, summary] of [
  ['load_from', 'detector', 'model.pth', detectorSt, /: mapping torchvision-fasterrcnn → .*: 284 matched, 0 missing/],
  ['model.backbone.init_cfg', 'backbone', 'backbone_f16.pth', backboneSt, /: mapping torchvision-.* → mobilenetv3_large: \d+ matched, 0 missing/],
] as const) {
  test(`${origin} from a safetensors file starts from exactly the .pth's weights`, () => {
    const model = target === 'backbone' ? { model: 'mobilenetv3_large' } : {};
    const fromPth = startingWeights({ origin, target, checkpoint: join(FIXTURE, pth), ...model });
    const fromSt = startingWeights({ origin, target, checkpoint: st as string, ...model });
    assert.match(fromSt.log[0], new RegExp(`^${origin.replace(/\./g, '\\.')}: .*\\.safetensors${summary.source}`));
    assert.deepEqual(fromSt.log.slice(1), fromPth.log.slice(1));
    let loaded = 0;
    for (const [k, v] of fromPth.weights) {
      assert.ok(Buffer.from(v.buffer, v.byteOffset, v.byteLength).equals(Buffer.from(fromSt.weights.get(k)!.buffer, fromSt.weights.get(k)!.byteOffset, v.byteLength)), k);
      if (k.startsWith('backbone.')) loaded++;
    }
    assert.ok(loaded > 50);
  });
}
