// The memory preflight: the estimate of a training step for the d-li14 + 5-level FPN config at
// known sizes, the automatic micro-batch choice, the one-line refusals (and exit code 2 through
// the CLI), data.microBatch's edge cases, and the out-of-memory advice built from the same estimate.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { checkModel } from '../../src/config/model.js';
import { validateConfig } from '../../src/config/validate.js';
import { writeShapesDataset } from '../../src/data/shapes.js';
import { InputError } from '../../src/errors.js';
import { estimateStepMemory, worstCaseSize } from '../../src/train/memory-estimate.js';
import { memoryLimit, planMemory, whatFits, type MemorySetting } from '../../src/train/memory-preflight.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CONFIG = join(ROOT, 'configs/faster-rcnn_mobilenetv3-large-dli14-fpn_1x_coco.js');
const GB = 2 ** 30;
const MB = 2 ** 20;

async function dli14(min: number, max: number, extra: string[] = []) {
  const loaded = await loadConfig(CONFIG, { cfgOptions: [`model.transform.minSize=${min}`, `model.transform.maxSize=${max}`, 'model.roiHead.numClasses=81', ...extra] });
  const cfg = validateConfig(loaded.config, loaded.file);
  return { cfg, detector: (await checkModel(cfg)).detector };
}

const small = await dli14(320, 640);
const large = await dli14(800, 1333);

function setting(d: typeof small, o: Partial<MemorySetting> = {}): MemorySetting {
  return { detector: d.detector, backend: 'wasm', batchSize: 2, transform: d.cfg.model.transform, batchStatistics: false, freeBytes: 64 * GB, ...o };
}

test('the estimate for known configs, by stage (MB)', async () => {
  const mb = (e: { bytes: number; stages: Record<string, number> }) => [Math.round(e.bytes / MB), Object.fromEntries(Object.entries(e.stages).map(([k, v]) => [k, Math.round(v / MB)]))];
  assert.deepEqual(mb(estimateStepMemory(small.detector, { images: 1, size: [320, 640] })), [949, { backbone: 164, fpn: 120, rpn: 105, roi: 0, parameters: 310, fixed: 250 }]);
  assert.deepEqual(mb(estimateStepMemory(large.detector, { images: 2, size: [800, 1344] })), [4642, { backbone: 1726, fpn: 1255, rpn: 1100, roi: 0, parameters: 310, fixed: 250 }]);
  // where RoIAlign is the peak, its part follows the RoIs sampled per image
  const many = await dli14(320, 640, ['model.roiHead.batchSizePerImage=4096']);
  assert.deepEqual(mb(estimateStepMemory(many.detector, { images: 1, size: [320, 640] })), [1570, { backbone: 69, fpn: 50, rpn: 44, roi: 848, parameters: 310, fixed: 250 }]);
});

test('the worst-case padded size: one image min x max, more images max square (mixed orientations)', () => {
  assert.deepEqual(worstCaseSize({ minSize: 800, maxSize: 1333, sizeDivisible: 32 }, 1), [800, 1344]);
  assert.deepEqual(worstCaseSize({ minSize: 800, maxSize: 1333, sizeDivisible: 32 }, 2), [1344, 1344]);
});

test('the limit: the 4 GB wasm heap, or less free memory; none known on webgpu', () => {
  assert.deepEqual(memoryLimit('wasm', 64 * GB), { bytes: 4 * GB, what: 'the 4.0 GB wasm heap' });
  assert.deepEqual(memoryLimit('wasm', 3 * GB), { bytes: 3 * GB, what: 'the 3.0 GB of free memory' });
  assert.deepEqual(memoryLimit('cpu', 10 * GB), { bytes: 10 * GB, what: 'the 10.0 GB of free memory' });
  assert.equal(memoryLimit('webgpu', 1), undefined);
});

test('a batch that fits trains whole; one that does not is split into micro-batches when that is exact', () => {
  assert.deepEqual(planMemory(setting(large, { batchSize: 1 })), { line: 'memory: about 2.5 GB of the 4.0 GB wasm heap per step (1 image padded to 800x1344)' });
  assert.deepEqual(planMemory(setting(large)), {
    microBatch: 1,
    line: 'memory: 2 images padded to 1344x1344 need about 7.2 GB, more than the 4.0 GB wasm heap: micro-batches of 1 (about 3.9 GB), same gradients',
  });
  // 4 images in 8 GB: the largest count that fits
  assert.equal(planMemory(setting(large, { batchSize: 4, freeBytes: 8 * GB, backend: 'cpu' })).microBatch, 2);
});

test('BatchNorm in train mode: no automatic micro-batching, one line with the estimate and what fits', () => {
  assert.throws(() => planMemory(setting(large, { batchStatistics: true })), (err: unknown) => {
    assert.ok(err instanceof InputError);
    assert.equal(err.message, 'data.batchSize: a training step of 2 images padded to 1344x1344 needs about 7.2 GB on wasm, more than the 4.0 GB wasm heap; ' +
        'what fits: data.microBatch: 1 with data.allowInexactMicroBatch: true (BatchNorm in train mode), or data.batchSize: 1, or model.transform.minSize/maxSize: 576/960');
    return true;
  });
  // with the opt-in, micro-batches
  assert.deepEqual(planMemory(setting(large, { batchStatistics: true, allowInexactMicroBatch: true })), {
    microBatch: 1,
    line: 'memory: 2 images padded to 1344x1344 need about 7.2 GB, more than the 4.0 GB wasm heap: micro-batches of 1 (about 3.9 GB), BatchNorm over each (data.allowInexactMicroBatch)',
  });
});

test('data.microBatch: honoured, refused with BatchNorm in train mode unless opted in, refused when even it does not fit', () => {
  assert.equal(planMemory(setting(small, { microBatch: 1 })).microBatch, 1);
  assert.throws(() => planMemory(setting(small, { microBatch: 1, batchStatistics: true })), {
    message: "data.microBatch: BatchNorm in train mode normalises over each micro-batch, so the gradients are not the whole batch's: set data.allowInexactMicroBatch: true to accept that, or model.backbone.normEval: true",
  });
  assert.equal(planMemory(setting(small, { microBatch: 1, batchStatistics: true, allowInexactMicroBatch: true })).microBatch, 1);
  // equal to the batch size: the whole batch, no splitting, even against the estimate
  assert.deepEqual(planMemory(setting(large, { microBatch: 2 })), { line: 'memory: about 7.2 GB per step (2 images padded to 1344x1344), more than the 4.0 GB wasm heap; whole batches as data.microBatch says' });
  // 800/1333 at batch 2 in 3 GB of free memory: not even one image per pass fits
  assert.throws(() => planMemory(setting(large, { microBatch: 1, freeBytes: 3 * GB })), { message: 'data.microBatch: a training step of micro-batches of 1 (2 images padded to 1344x1344) needs about 3.9 GB on wasm, more than the 3.0 GB of free memory; what fits: data.batchSize: 1, or model.transform.minSize/maxSize: 480/800' });
});

test('data.microBatch above data.batchSize is a config error naming the key', async () => {
  const loaded = await loadConfig(CONFIG, { cfgOptions: ['data.batchSize=2', 'data.microBatch=3'] });
  assert.throws(() => validateConfig(loaded.config, loaded.file), { message: '--cfg-options data.microBatch: must be <= data.batchSize (2), got 3' });
  for (const ok of ['data.microBatch=2', 'data.microBatch=null', 'data.allowInexactMicroBatch=true']) {
    const l = await loadConfig(CONFIG, { cfgOptions: ['data.batchSize=2', ok] });
    validateConfig(l.config, l.file);
  }
});

test('the out-of-memory advice comes from the same estimate', () => {
  assert.equal(whatFits(setting(large)), 'what fits: data.microBatch: 1, or data.batchSize: 1, or model.transform.minSize/maxSize: 576/960');
  assert.equal(whatFits(setting(large, { batchSize: 1, freeBytes: 2 * GB })), 'what fits: model.transform.minSize/maxSize: 672/1120');
  assert.equal(whatFits(setting(large, { batchSize: 1, freeBytes: 0.3 * GB })), 'nothing this estimate knows of fits: use a machine with more memory');
  assert.equal(whatFits(setting(small, { backend: 'webgpu' })), 'lower data.batchSize (now 2) or model.transform.minSize/maxSize (now 320/640)');
});

describe('finetune (the CLI, on a tiny shapes dataset)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'torchport-memory-'));
  const data = join(tmp, 'shapes');
  before(() => writeShapesDataset(data, { train: 2, val: 2, size: 64, seed: 1, maxShapes: 1 }));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const finetune = (work: string, ...options: string[]) =>
    spawnSync(process.execPath, [
      join(ROOT, 'bin', 'torchport.js'), 'finetune', '--config', 'configs/faster-rcnn_mobilenetv3-large-320-fpn_shapes-demo.js', '--data', data,
      '--work-dir', join(tmp, work), '--backend', 'wasm', '--cfg-options', 'model.backbone.widthMult=0.35', 'model.neck.outChannels=32',
      'model.roiHead.representationSize=64', 'load_from=fixtures/fasterrcnn/model.pth', 'data.batchSize=2', 'trainCfg.maxEpochs=1', 'trainCfg.valInterval=1', ...options,
    ], { encoding: 'utf8', cwd: ROOT });
  const lastLine = (stderr: string) => stderr.trim().split('\n').at(-1)!;

  test('a step that cannot fit is one line and exit code 2 before epoch 1', () => {
    const r = finetune('huge', 'model.transform.minSize=3000', 'model.transform.maxSize=6000');
    assert.equal(r.status, 2, r.stderr);
    assert.match(lastLine(r.stderr), /^torchport: \/.*shapes-demo\.js: data\.batchSize: a training step of 2 images padded to 6016x6016 needs about \d+\.\d GB on wasm, more than the 4\.0 GB wasm heap; what fits: .*model\.transform\.minSize\/maxSize: \d+\/\d+$/);
    assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/); // no stack trace
  });

  test('data.microBatch is honoured with running-statistics BatchNorm', () => {
    const r = finetune('micro', 'data.microBatch=1');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^memory: micro-batches of 1, about \d+\.\d GB of the [\d.]+ GB .* per step \(2 images padded to 320x320\)$/m);
  });

  test('data.microBatch with BatchNorm in train mode: refused in one line unless data.allowInexactMicroBatch', () => {
    const r = finetune('train-bn', 'data.microBatch=1', 'model.backbone.normEval=false');
    assert.equal(r.status, 2, r.stderr);
    assert.equal(lastLine(r.stderr), `torchport: ${join(ROOT, 'configs/faster-rcnn_mobilenetv3-large-320-fpn_shapes-demo.js')}: data.microBatch: BatchNorm in train mode normalises over each micro-batch, so the gradients are not the whole batch's: set data.allowInexactMicroBatch: true to accept that, or model.backbone.normEval: true`);
  });
});
