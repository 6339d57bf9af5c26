// RoIAlign from matMuls against torchvision.ops.roi_align (aligned on/off, fixed and adaptive
// sampling, boxes partly or wholly outside the map), and its gradient reaching the features.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { ensureGradients } from '../../../src/backend/gradients.js';
import { selectBackend } from '../../../src/backend/select.js';
import { assignLevels, multiScaleRoIAlign, roiAlign } from '../../../src/models/faster-rcnn/roi-align.js';
import { assertClose, json } from './helpers.js';

const u = json('units.json').roiAlign;

before(async () => {
  await selectBackend('wasm');
  await ensureGradients();
});

for (const c of u.cases) {
  test(`roi_align aligned=${c.aligned} sampling_ratio=${c.samplingRatio} equals torchvision`, () => {
    const feature = tf.tensor4d(u.feature, u.featureShape);
    const pooled = roiAlign(feature, Float32Array.from(u.boxes), u.scale, { outputSize: u.outputSize, samplingRatio: c.samplingRatio, aligned: c.aligned });
    assert.deepEqual(pooled.shape, [u.boxes.length / 4, u.outputSize, u.outputSize, 3]);
    assertClose(pooled.dataSync(), c.pooled, 1e-5, 'pooled');
    tf.dispose([feature, pooled]);
  });
}

test('roi_align is differentiable with respect to the feature map', () => {
  const feature = tf.tensor4d(u.feature, u.featureShape);
  const boxes = Float32Array.from(u.boxes);
  const opts = { outputSize: u.outputSize, samplingRatio: 2, aligned: false };
  const grad = tf.grad((x: tf.Tensor) => tf.sum(roiAlign(x as tf.Tensor4D, boxes, u.scale, opts)))(feature);
  const g = grad.dataSync();
  assert.ok(g.some((v) => v > 0));
  // finite-difference check on one feature element
  const eps = 1e-2;
  const at = 3 * (4 * 11 + 5) + 1;
  const bump = (d: number) => {
    const data = Float32Array.from(u.feature);
    data[at] += d;
    return tf.tidy(() => tf.sum(roiAlign(tf.tensor4d(data, u.featureShape), boxes, u.scale, opts)).dataSync()[0]);
  };
  assert.ok(Math.abs((bump(eps) - bump(-eps)) / (2 * eps) - g[at]) < 1e-3);
  tf.dispose([feature, grad]);
});

test('level mapping: floor(4 + log2(sqrt(area) / 224) + 1e-6), clamped', () => {
  const boxes = Float32Array.from([0, 0, 224, 224, 0, 0, 111, 111, 0, 0, 112, 112, 0, 0, 1000, 1000, 0, 0, 10, 10]);
  assert.deepEqual([...assignLevels(boxes, 2, 5, 224, 4)], [2, 0, 1, 3, 0]);
});

test('MultiScaleRoIAlign over three levels and a batch of two images equals torchvision', () => {
  const m = json('units.json').multiScaleRoIAlign;
  const features = m.features.map((data: number[], i: number) => tf.tensor4d(data, m.featureShapes[i]));
  const pooled = multiScaleRoIAlign(features, m.boxes.map((b: number[]) => Float32Array.from(b)), m.imageSizes, {
    outputSize: m.outputSize, samplingRatio: m.samplingRatio, aligned: false, canonicalScale: 224, canonicalLevel: 4,
  });
  assert.deepEqual(pooled.shape, [18, 3, 3, 2]);
  assertClose(pooled.dataSync(), m.pooled, 1e-5, 'pooled');
  // the boxes really spread over the levels
  const levels = m.boxes.flatMap((b: number[]) => [...assignLevels(Float32Array.from(b), 2, 4, 224, 4)]);
  assert.deepEqual([...new Set(levels)].sort(), [0, 1, 2]);
  tf.dispose([...features, pooled]);
});
