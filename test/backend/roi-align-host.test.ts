// The host RoIAlign (wasm, cpu) against the tensor-op RoIAlign it replaces there: the same pooled
// values and the same gradients with respect to every level, for RoIs of two images spread over two
// levels and written out of level order, adaptive and fixed sampling, aligned or not, boxes inside,
// straddling and past the edge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { roiAlignTensors } from '../../src/models/faster-rcnn/roi-align.js';
import { roiAlignHost } from '../../src/models/faster-rcnn/roi-align-host.js';
import { randomValues, relativeError, rng } from './helpers.js';
import { selectBackend } from '../../src/backend/select.js';
import { simdCallsTo } from '../../src/backend/simd/relaxed-simd.js';

// 5 channels: the JavaScript sums; 32 (two steps of 16): the SIMD kernel on the wasm heap (asserted below).
for (const c of [5, 32]) test(`roiAlignHost equals the tensor-op RoIAlign, values and gradients, over two images and two levels (${c} channels)`, async () => {
  await selectBackend('wasm');
  const kernelCalls = simdCallsTo('scaledRowSums');
  const rand = rng(41);
  const fine = tf.tensor4d(randomValues(rand, 2 * 12 * 10 * c), [2, 12, 10, c]);
  const coarse = tf.tensor4d(randomValues(rand, 2 * 6 * 5 * c), [2, 6, 5, c]);
  const scales = [0.25, 0.125];
  // [image, level, x1, y1, x2, y2] in output order
  const rois = [[0, 1, 1, 2, 37, 45], [0, 0, 4, 4, 12, 11], [1, 0, -6, -4, 9, 30], [1, 1, 18, 10, 50, 47], [0, 0, 30, 40, 44, 60], [1, 0, 5.5, 5.5, 6.5, 6.5]];
  const dy = tf.tensor4d(randomValues(rand, rois.length * 3 * 3 * c), [rois.length, 3, 3, c]);
  for (const opts of [{ outputSize: 3, samplingRatio: 0, aligned: true }, { outputSize: 3, samplingRatio: 2, aligned: false }]) {
    const levels = [0, 1].map((level) => {
      const mine = rois.map((r, i) => [r, i] as const).filter(([r]) => r[1] === level);
      return {
        images: Int32Array.from(mine, ([r]) => r[0]),
        boxes: Float32Array.from(mine.flatMap(([r]) => r.slice(2))),
        outputRows: Int32Array.from(mine, ([, i]) => i),
        scale: scales[level],
      };
    });
    const host = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(roiAlignHost([a as tf.Tensor4D, b as tf.Tensor4D], levels, rois.length, opts), dy));
    const tensors = (a: tf.Tensor, b: tf.Tensor) => {
      const maps = [a, b] as tf.Tensor4D[];
      const pooled = rois.map((r) => roiAlignTensors(tf.slice(maps[r[1]], [r[0], 0, 0, 0], [1, -1, -1, -1]), Float32Array.from(r.slice(2)), scales[r[1]], opts));
      return tf.sum(tf.mul(tf.concat(pooled, 0), dy));
    };
    const pooledHost = roiAlignHost([fine, coarse], levels, rois.length, opts);
    const pooledRef = tf.tidy(() => tf.concat(rois.map((r) => roiAlignTensors(tf.slice([fine, coarse][r[1]], [r[0], 0, 0, 0], [1, -1, -1, -1]), Float32Array.from(r.slice(2)), scales[r[1]], opts)), 0));
    assert.ok(relativeError(pooledHost.dataSync(), pooledRef.dataSync()) <= 1e-6, `pooled, ${JSON.stringify(opts)}`);
    const gHost = tf.grads(host)([fine, coarse]);
    const gRef = tf.grads(tensors)([fine, coarse]);
    for (let l = 0; l < 2; l++) {
      assert.ok(gRef[l].dataSync().some((v) => v !== 0), `level ${l} has a gradient`);
      assert.ok(relativeError(gHost[l].dataSync(), gRef[l].dataSync()) <= 1e-6, `level ${l} gradient, ${JSON.stringify(opts)}`);
    }
    tf.dispose([pooledHost, pooledRef, ...gHost, ...gRef]);
  }
  tf.dispose([fine, coarse, dy]);
  // 2 option sets x (pooled + value and gradient of the sum): forward and backward calls
  if (c === 32) assert.ok(simdCallsTo('scaledRowSums') - kernelCalls >= 6, 'the SIMD kernel ran');
  else assert.equal(simdCallsTo('scaledRowSums'), kernelCalls, 'the JavaScript sums ran');
});
