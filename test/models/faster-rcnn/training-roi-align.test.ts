// RoIAlign is where the RoI head's gradient enters the FPN: the tape's gradient w.r.t. the feature
// maps must match central finite differences, through one level and through the multi-level
// path (level assignment, per-image slices, and the reordering gather).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../../src/backend/select.js';
import { ensureGradients } from '../../../src/backend/gradients.js';
import { multiScaleRoIAlign, roiAlign } from '../../../src/models/faster-rcnn/roi-align.js';
import { SeededRandom } from '../../../src/train/faster-rcnn/random.js';

await selectBackend('wasm');
await ensureGradients();

function randomTensor(rand: SeededRandom, shape: number[]): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: size }, () => rand.next() * 2 - 1), shape);
}

/** Compares d loss / d inputs[k] with central differences at `probes` random entries of each input. */
function checkGradient(loss: (...xs: tf.Tensor[]) => tf.Scalar, inputs: tf.Tensor[], rand: SeededRandom, probes: number): void {
  const grads = tf.grads((...xs: tf.Tensor[]) => loss(...xs))(inputs);
  const eps = 0.05;
  inputs.forEach((x, k) => {
    const base = x.dataSync();
    const g = grads[k].dataSync();
    assert.ok(g.some((v) => v !== 0), `input ${k}: gradient is all zero`);
    assert.ok(g.every(Number.isFinite), `input ${k}: non-finite gradient`);
    // probe the entries with the largest gradient plus random ones (which may be zero)
    const largest = Array.from(g.keys()).sort((a, b) => Math.abs(g[b]) - Math.abs(g[a])).slice(0, probes);
    const random = Array.from({ length: probes }, () => rand.below(base.length));
    for (const i of [...largest, ...random]) {
      const at = (delta: number) => {
        const v = base.slice();
        v[i] += delta;
        const shifted = inputs.map((t, j) => (j === k ? tf.tensor(v, t.shape) : t));
        return tf.tidy(() => loss(...shifted).dataSync()[0]);
      };
      const fd = (at(eps) - at(-eps)) / (2 * eps);
      assert.ok(Math.abs(fd - g[i]) <= 2e-3 * Math.max(1, Math.abs(fd)), `input ${k}[${i}]: tape ${g[i]}, finite difference ${fd}`);
    }
  });
}

test('roiAlign: gradient w.r.t. the feature map equals finite differences (RoIs inside, straddling and past the edge)', () => {
  const rand = new SeededRandom(11);
  const feature = randomTensor(rand, [1, 6, 7, 3]) as tf.Tensor4D;
  const boxes = Float32Array.from([2, 3, 20, 17, -6, -4, 9, 30, 18, 10, 40, 31, 5.5, 5.5, 6.5, 6.5]);
  const opts = { outputSize: 3, samplingRatio: 2, aligned: false };
  const weights = randomTensor(rand, [4, 3, 3, 3]);
  checkGradient((f) => tf.sum(tf.mul(roiAlign(f as tf.Tensor4D, boxes, 0.25, opts), weights)) as tf.Scalar, [feature], rand, 8);
  // adaptive sampling and aligned=true take the other branches of the weight computation
  const adaptive = { outputSize: 3, samplingRatio: 0, aligned: true };
  checkGradient((f) => tf.sum(tf.mul(roiAlign(f as tf.Tensor4D, boxes, 0.25, adaptive), weights)) as tf.Scalar, [feature], rand, 8);
});

test('multiScaleRoIAlign: gradients reach both levels and both images, through the reordering gather', () => {
  const rand = new SeededRandom(12);
  // a padded batch of 2 images 32x32; levels at stride 4 and 8
  const fine = randomTensor(rand, [2, 8, 8, 2]) as tf.Tensor4D;
  const coarse = randomTensor(rand, [2, 4, 4, 2]) as tf.Tensor4D;
  // canonical scale 16 at level 3: 8 px boxes pool from stride 4, 20+ px boxes from stride 8;
  // image 0 alternates big/small so the output order differs from the per-level order
  const boxesPerImage = [
    Float32Array.from([1, 2, 25, 27, 4, 4, 12, 11, 3, 0, 30, 22]),
    Float32Array.from([10, 12, 17, 19, 0, 1, 31, 30]),
  ];
  const opts = { outputSize: 2, samplingRatio: 2, aligned: false, canonicalScale: 16, canonicalLevel: 3 };
  const weights = randomTensor(rand, [5, 2, 2, 2]);
  checkGradient(
    (a, b) => tf.sum(tf.mul(multiScaleRoIAlign([a as tf.Tensor4D, b as tf.Tensor4D], boxesPerImage, [[32, 32], [32, 30]], opts), weights)) as tf.Scalar,
    [fine, coarse],
    rand,
    6,
  );
});
