// A training step (loss and every gradient) on wasm with torchport's kernels equals the same step
// on the cpu backend: first a small MobileNetV3-style block plus a gather-based RoIAlign-like op,
// then the project's real MobileNetV3 in train mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { dense } from '../../src/backend/ops/dense.js';
import { createMobileNetV3 } from '../../src/models/backbones/mobilenetv3/index.js';
import { onBackend, randomValues, relativeError, rng } from './helpers.js';

type Step = (weights: Record<string, tf.Tensor>) => tf.Scalar;

/** [loss, ...gradients in key order], computed from fixed weight values on the active backend. */
function lossAndGrads(values: Record<string, { v: Float32Array; shape: number[] }>, step: Step): () => tf.Tensor[] {
  return () => {
    const names = Object.keys(values);
    const { value, grads } = tf.valueAndGrads((...ts: tf.Tensor[]) => step(Object.fromEntries(names.map((n, i) => [n, ts[i]]))))(
      names.map((n) => tf.tensor(values[n].v, values[n].shape)),
    );
    return [value, ...grads];
  };
}

async function assertSameStep(values: Record<string, { v: Float32Array; shape: number[] }>, step: Step): Promise<void> {
  const want = await onBackend('cpu', lossAndGrads(values, step));
  const got = await onBackend('wasm', lossAndGrads(values, step));
  const names = ['loss', ...Object.keys(values)];
  const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const largest = Math.max(...want.slice(1).map(maxAbs));
  names.forEach((name, i) => {
    // A gradient that is zero in exact arithmetic (e.g. the bias of a BN whose output only feeds
    // another batch-statistics BN) is rounding noise on both backends: such tensors are compared
    // against 1e-3 of the largest gradient instead of their own (noise) scale.
    const scale = Math.max(maxAbs(want[i]), 1e-3 * largest);
    const err = relativeError(got[i], want[i]) * (maxAbs(want[i]) / scale);
    if (process.env.DEBUG_STEP) console.log(name, maxAbs(want[i]), err);
    assert.ok(err <= 1e-4, `${name}: relative error ${err}`);
  });
}

const hardSwish = (x: tf.Tensor) => tf.mul(x, tf.div(tf.relu6(tf.add(x, 3)), 6));

/** Bilinear samples of a feature map at fixed points, built from gather + weighted sums. */
function sampleBilinear(feat: tf.Tensor4D, ys: number[], xs: number[]): tf.Tensor {
  const [n, h, w, c] = feat.shape;
  const flat = tf.reshape(feat, [n * h * w, c]);
  const corners: number[][] = [[], [], [], []];
  const weights: number[][] = [[], [], [], []];
  for (let b = 0; b < n; b++)
    for (const y of ys)
      for (const x of xs) {
        const y0 = Math.floor(y), x0 = Math.floor(x), dy = y - y0, dx = x - x0;
        const base = (b * h + y0) * w + x0;
        [base, base + 1, base + w, base + w + 1].forEach((idx, k) => corners[k].push(idx));
        [(1 - dy) * (1 - dx), (1 - dy) * dx, dy * (1 - dx), dy * dx].forEach((wt, k) => weights[k].push(wt));
      }
  const terms = corners.map((idx, k) => tf.mul(tf.gather(flat, tf.tensor1d(idx, 'int32')), tf.tensor2d(weights[k], [weights[k].length, 1])));
  return tf.addN(terms);
}

test('a MobileNetV3-style block + gather-based sampling: wasm step equals cpu step', async () => {
  const rand = rng(21);
  const shapes: Record<string, number[]> = {
    stem: [3, 3, 3, 8], gamma: [8], beta: [8], expand: [1, 1, 8, 24], dw: [5, 5, 24, 1],
    se1: [24, 8], se1b: [8], se2: [8, 24], se2b: [24], project: [1, 1, 24, 8], fc: [8, 5], fcb: [5],
  };
  const values = Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, { v: randomValues(rand, tf.util.sizeFromShape(s)), shape: s }]));
  const input = randomValues(rand, 3 * 19 * 19 * 3);
  const step: Step = (w) => {
    const x = tf.tensor4d(input, [3, 19, 19, 3]);
    let h: tf.Tensor = tf.conv2d(x, w.stem as tf.Tensor4D, 2, 'same');
    const { mean, variance } = tf.moments(h, [0, 1, 2]);
    h = hardSwish(tf.batchNorm(h, mean, variance, w.beta, w.gamma, 1e-3));
    let e: tf.Tensor = tf.relu(tf.conv2d(h as tf.Tensor4D, w.expand as tf.Tensor4D, 1, 'valid'));
    e = hardSwish(tf.depthwiseConv2d(e as tf.Tensor4D, w.dw as tf.Tensor4D, 2, [[0, 0], [2, 2], [2, 2], [0, 0]]));
    const squeezed = tf.mean(e, [1, 2]);
    const gate = tf.div(tf.relu6(tf.add(dense(tf.relu(dense(squeezed, w.se1 as tf.Tensor2D, w.se1b as tf.Tensor1D)), w.se2 as tf.Tensor2D, w.se2b as tf.Tensor1D), 3)), 6);
    const p = tf.conv2d(tf.mul(e, tf.reshape(gate, [3, 1, 1, 24])) as tf.Tensor4D, w.project as tf.Tensor4D, 1, 'same');
    const logits = tf.add(tf.matMul(tf.mean(p, [1, 2]) as tf.Tensor2D, w.fc as tf.Tensor2D), w.fcb);
    const labels = tf.oneHot(tf.tensor1d([1, 3, 4], 'int32'), 5);
    const sampled = sampleBilinear(p as tf.Tensor4D, [0.5, 1.25, 2.75], [0.2, 1.6, 2.9]);
    return tf.add(tf.losses.softmaxCrossEntropy(labels, logits), tf.mean(tf.square(sampled))) as tf.Scalar;
  };
  await assertSameStep(values, step);
});

test('MobileNetV3-small (train mode, batch statistics): wasm step equals cpu step', async () => {
  const model = createMobileNetV3({ variant: 'small', widthMult: 0.5, numClasses: 5, dropout: 0 });
  await onBackend('cpu', () => tf.zeros([1]));
  const init = model.initWeights(3);
  const values = Object.fromEntries(Object.entries(init).map(([k, t]) => [k, { v: t.dataSync() as Float32Array, shape: t.shape }]));
  tf.dispose(Object.values(init));
  const trainable = Object.fromEntries(model.specs.filter((s) => s.trainable).map((s) => [s.name, values[s.name]]));
  const frozen = Object.fromEntries(model.specs.filter((s) => !s.trainable).map((s) => [s.name, values[s.name]]));
  const input = randomValues(rng(22), 2 * 64 * 64 * 3);
  const step: Step = (w) => {
    const all = { ...w, ...Object.fromEntries(Object.entries(frozen).map(([k, { v, shape }]) => [k, tf.tensor(v, shape)])) };
    const { logits } = model.forward(all, tf.tensor4d(input, [2, 64, 64, 3]), { training: true });
    return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d([0, 4], 'int32'), 5), logits!) as tf.Scalar;
  };
  await assertSameStep(trainable, step);
  model.releaseCache();
});
