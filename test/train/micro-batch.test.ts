// Micro-batching: a batch split into runs of images, each run's share of the whole batch's losses
// (RPN and RoI normalisers over the whole batch) differentiated and summed, gives the whole
// batch's losses and gradients, with the same sampled anchors and RoIs, when BatchNorm keeps
// running statistics; with BatchNorm in train mode it does not (hence the opt-in).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import { ensureGradients } from '../../src/backend/gradients.js';
import { loadConfig } from '../../src/config/load.js';
import { checkModel } from '../../src/config/model.js';
import { validateConfig } from '../../src/config/validate.js';
import type { DetectionBatch } from '../../src/train/faster-rcnn/faster-rcnn-train.js';
import { detectorTrainable, detectorVariables } from '../../src/train/faster-rcnn/trainable.js';
import { microBatchRanges, stepGradients } from '../../src/train/micro-batch.js';
import { Sgd } from '../../src/train/sgd.js';
import { Trainer } from '../../src/train/trainer.js';

await selectBackend('wasm');
await ensureGradients();

const loaded = await loadConfig(new URL('../../configs/faster-rcnn_mobilenetv3-large-320-fpn_1x_coco.js', import.meta.url).pathname);

/** A small detector whose samplers draw (quotas below the candidates), BatchNorm as `normEval` says. */
async function smallDetector(normEval: boolean) {
  const config = structuredClone(loaded.config) as Record<string, any>;
  const m = validateConfig(structuredClone(loaded.config), loaded.file).model;
  Object.assign(m.backbone, { widthMult: 0.25, frozenStages: 2, normEval, outIndices: [9, 16] });
  m.neck.outChannels = 16;
  const sizes = [8, 16, 32, 64, 128];
  m.rpn = { ...m.rpn, anchors: { type: 'torchvision', sizes: [sizes, sizes, sizes], aspectRatios: [[0.5, 1, 2], [0.5, 1, 2], [0.5, 1, 2]] }, preNmsTopN: { train: 60, test: 50 }, postNmsTopN: { train: 40, test: 30 }, batchSizePerImage: 32 };
  m.roiHead = { ...m.roiHead, representationSize: 32, numClasses: 4, batchSizePerImage: 16 };
  config.model = m;
  const { detector } = await checkModel(validateConfig(config, loaded.file));
  return detector;
}

function batchOf3(): DetectionBatch {
  return {
    images: tf.randomUniform([3, 64, 64, 3], -1, 1, 'float32', 5) as tf.Tensor4D,
    imageSizes: [[64, 64], [64, 48], [56, 64]],
    targets: [
      { boxes: new Float32Array([4, 6, 40, 50, 30, 20, 60, 62]), labels: new Int32Array([1, 3]) },
      { boxes: new Float32Array([10, 8, 30, 44]), labels: new Int32Array([2]) },
      { boxes: new Float32Array([2, 2, 20, 30, 20, 30, 50, 60, 40, 4, 62, 24]), labels: new Int32Array([1, 2, 3]) },
    ],
  };
}

/** One step's losses, gradients (by variable name) and the sampler's state after it. */
async function step(normEval: boolean, microBatch?: number) {
  const detector = await smallDetector(normEval);
  const weights = detector.initWeights(3);
  const variables = detectorVariables(detector, weights);
  tf.dispose(Object.values(weights));
  const model = detectorTrainable(detector, variables, { seed: 11 });
  const trainable = [...variables.values()].filter((v) => v.trainable);
  const batch = batchOf3();
  const out = await stepGradients(model, batch, trainable, microBatch);
  const grads = Object.fromEntries(Object.entries(out.grads).map(([k, g]) => [k, g.dataSync() as Float32Array]));
  const terms = Object.fromEntries(Object.entries(out.terms).map(([k, t]) => [k, t.dataSync()[0]]));
  const stats = [...variables].filter(([k]) => k.endsWith('running_mean')).map(([, v]) => v.dataSync()[0]);
  const result = { loss: out.value.dataSync()[0], terms, grads, rng: model.rng!.getState() as [number, number], stats };
  tf.dispose([out.value, ...Object.values(out.terms), ...Object.values(out.grads), ...Object.values(out.buffers), batch.images, ...variables.values()]);
  detector.releaseCache();
  return result;
}

/** ‖a − b‖ / ‖b‖ over every gradient together. */
function gradientError(a: Record<string, Float32Array>, b: Record<string, Float32Array>): number {
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort());
  let diff = 0;
  let norm = 0;
  for (const k of Object.keys(b)) {
    for (let i = 0; i < b[k].length; i++) {
      diff += (a[k][i] - b[k][i]) ** 2;
      norm += b[k][i] ** 2;
    }
  }
  return Math.sqrt(diff / norm);
}

test('micro-batch ranges: runs of k images, the last one shorter', () => {
  assert.deepEqual(microBatchRanges(3, 1), [[0, 1], [1, 2], [2, 3]]);
  assert.deepEqual(microBatchRanges(5, 2), [[0, 2], [2, 4], [4, 5]]);
  assert.deepEqual(microBatchRanges(2, 2), [[0, 2]]);
  assert.deepEqual(microBatchRanges(2, 7), [[0, 2]]);
  assert.throws(() => microBatchRanges(2, 0), /not a positive integer/);
});

test('running-statistics BatchNorm: micro-batches of 1 and of 2 give the whole batch\'s losses, gradients and samples', async (t) => {
  const whole = await step(true);
  for (const k of [1, 2]) {
    const micro = await step(true, k);
    // the samplers drew exactly as often, so they drew the same anchors and RoIs
    assert.deepEqual(micro.rng, whole.rng, `k=${k}: sampler state`);
    assert.ok(whole.rng[1] > 0, 'the samplers drew');
    for (const [name, v] of Object.entries(whole.terms)) {
      assert.ok(Math.abs(micro.terms[name] - v) <= 1e-5 * Math.abs(v) + 1e-7, `k=${k}: ${name} ${micro.terms[name]} vs ${v}`);
    }
    const err = gradientError(micro.grads, whole.grads);
    t.diagnostic(`micro-batches of ${k}: gradient relative error ${err.toExponential(2)}`);
    assert.ok(err < 1e-5, `k=${k}: gradient relative error ${err}`);
  }
});

test('train-mode BatchNorm: micro-batches normalise over fewer images, so the gradients differ', async (t) => {
  const whole = await step(false);
  const micro = await step(false, 1);
  const err = gradientError(micro.grads, whole.grads);
  t.diagnostic(`train-mode BatchNorm, micro-batches of 1: gradient relative error ${err.toExponential(2)}`);
  assert.ok(err > 1e-3, `gradient relative error ${err}`);
  // each micro-batch's forward updates the running statistics once, as PyTorch's does
  assert.notDeepEqual(micro.stats, whole.stats);
});

test('the trainer with microBatch: two SGD steps end at the weights of whole-batch steps', async () => {
  const passes: string[] = [];
  const train = async (microBatch?: number) => {
    const detector = await smallDetector(true);
    const weights = detector.initWeights(3);
    const variables = detectorVariables(detector, weights);
    tf.dispose(Object.values(weights));
    const optimizer = new Sgd([...variables.values()].filter((v) => v.trainable), { lr: 0.02, momentum: 0.9, weightDecay: 1e-4 });
    const batch = batchOf3();
    const workDir = mkdtempSync(join(tmpdir(), 'torchport-micro-'));
    try {
      const model = detectorTrainable(detector, variables, { seed: 11 });
      const computeLoss = model.computeLoss.bind(model);
      model.computeLoss = (b, images) => {
        passes.push(images ? images.join('-') : 'all');
        return computeLoss(b, images);
      };
      await new Trainer({
        model,
        data: { batchesPerEpoch: 2, async *batches(_e, start) { for (let i = start; i < 2; i++) yield batch; }, dispose() {} },
        optimizer, lrAt: () => 0.02, maxEpochs: 1, workDir, microBatch, handleSigint: false,
        progress: { iteration() {}, message() {}, close() {} },
      }).fit();
      return Object.fromEntries([...variables].map(([k, v]) => [k, v.dataSync() as Float32Array]));
    } finally {
      optimizer.dispose();
      tf.dispose([batch.images, ...variables.values()]);
      rmSync(workDir, { recursive: true, force: true });
    }
  };
  const whole = await train();
  const micro = await train(2);
  assert.deepEqual(passes, ['all', 'all', '0-2', '2-3', '0-2', '2-3']);
  const before = await (async () => { const d = await smallDetector(true); const w = d.initWeights(3); const out = Object.fromEntries(Object.entries(w).map(([k, t]) => [k, t.dataSync() as Float32Array])); tf.dispose(Object.values(w)); return out; })();
  const moved = Object.fromEntries(Object.keys(whole).map((k) => [k, whole[k].map((v, i) => v - before[k][i])]));
  const movedMicro = Object.fromEntries(Object.keys(whole).map((k) => [k, micro[k].map((v, i) => v - before[k][i])]));
  const err = gradientError(movedMicro, moved);
  assert.ok(err < 1e-4, `update relative error ${err}`);
});
