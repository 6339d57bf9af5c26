// Opt-in wasm threads (their own test file: the wasm backend starts once per process). On a
// 2-core machine XNNPACK would cap the pool at 1; torchport's loader gets the 2 asked for, and the
// results match the cpu backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { selectBackend } from '../../src/backend/select.js';
import { onBackend, randomValues, relativeError, rng } from './helpers.js';

test('selectBackend(wasm, {threads: 2}) starts 2 threads, computes what cpu computes, and a second request is refused', async () => {
  const choice = await selectBackend('wasm', { threads: 2 });
  assert.equal(choice.detail, '@tensorflow/tfjs-backend-wasm 4.22.0 (SIMD, 2 threads) + torchport kernels (gradients; SIMD kernels unavailable: the threaded build shares its memory)');
  assert.equal(getThreadsCount(), 2);
  const rand = rng(41);
  const x = randomValues(rand, 2 * 33 * 33 * 8);
  const w = randomValues(rand, 3 * 3 * 8 * 16);
  const step = () => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'))))([tf.tensor(x, [2, 33, 33, 8]), tf.tensor(w, [3, 3, 8, 16])]);
  const got = await onBackend('wasm', step);
  const want = await onBackend('cpu', step);
  got.forEach((g, i) => assert.ok(relativeError(g, want[i]) <= 1e-4, `gradient ${i}`));
  const again = await selectBackend('wasm', { threads: 4 });
  assert.match(again.detail, /\(SIMD, 2 threads \(4 threads requested, unavailable: the wasm backend is already running in this process\)\)/);
});
