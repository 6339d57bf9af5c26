// torchport's relaxed-SIMD depthwise convolution (src/backend/simd/depthwise-kernel.ts, used by the
// wasm DepthwiseConv2dNative and FusedDepthwiseConv2D kernels) gives the cpu backend's results over
// filter sizes, strides, paddings (where borders drop taps), channel blocks of 8 and 16, batches,
// bias and ReLU; and the convolutions it declines (dilation, channel multipliers, channel counts
// that are not a multiple of 8) still match through XNNPACK; and these kernels leak no buffers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { hardSwish } from '../../src/backend/ops/hard-activations.js';
import { simdCallsTo } from '../../src/backend/simd/relaxed-simd.js';
import { onBackend, pick, randomValues, relativeError, rng } from './helpers.js';

test('SIMD depthwise convolutions on wasm match cpu over filters, strides, paddings and channels', async () => {
  const rand = rng(81);
  for (let trial = 0; trial < 14; trial++) {
    const k = pick(rand, [1, 3, 5, 7]);
    const stride = pick(rand, [1, 2]);
    const channels = pick(rand, [8, 16, 24, 48]);
    const [batch, h, w] = [pick(rand, [1, 2]), 5 + Math.floor(rand() * 12), 5 + Math.floor(rand() * 12)];
    const pad = pick(rand, ['same', 'valid', Math.floor(k / 2)] as const);
    const x = randomValues(rand, batch * h * w * channels);
    const f = randomValues(rand, k * k * channels);
    const bias = randomValues(rand, channels);
    const run = () => {
      const xt = tf.tensor4d(x, [batch, h, w, channels]);
      const ft = tf.tensor4d(f, [k, k, channels, 1]);
      return [
        tf.depthwiseConv2d(xt, ft, stride, pad),
        tf.fused.depthwiseConv2d({ x: xt, filter: ft, strides: stride, pad, bias: tf.tensor1d(bias), activation: 'relu' }),
      ];
    };
    const want = await onBackend('cpu', run);
    const calls = simdCallsTo('depthwiseRow');
    const got = await onBackend('wasm', run);
    const label = `${batch}x${h}x${w}x${channels} k${k} s${stride} pad ${pad}`;
    assert.ok(simdCallsTo('depthwiseRow') > calls, `${label}: the SIMD depthwise kernel ran`);
    want.forEach((v, i) => assert.ok(relativeError(got[i], v) <= 1e-5, `${label} #${i}: ${relativeError(got[i], v)}`));
  }
});

test('depthwise convolutions the SIMD kernel declines still match cpu', async () => {
  const rand = rng(82);
  const x = randomValues(rand, 2 * 9 * 10 * 12);
  const f = randomValues(rand, 3 * 3 * 12 * 2);
  const run = () => {
    const xt = tf.tensor4d(x, [2, 9, 10, 12]);
    return [
      tf.depthwiseConv2d(xt, tf.tensor4d(f.slice(0, 108), [3, 3, 12, 1]), 1, 'same'), // 12 channels
      tf.depthwiseConv2d(xt, tf.tensor4d(f, [3, 3, 12, 2]), 1, 'same'), // multiplier 2
      tf.depthwiseConv2d(tf.slice(xt, [0, 0, 0, 0], [-1, -1, -1, 8]), tf.tensor4d(f.slice(0, 72), [3, 3, 8, 1]), 1, 'same', 'NHWC', 2), // dilated
    ];
  };
  const want = await onBackend('cpu', run);
  const calls = simdCallsTo('depthwiseRow');
  const got = await onBackend('wasm', run);
  assert.equal(simdCallsTo('depthwiseRow'), calls, 'the SIMD depthwise kernel declined them all');
  want.forEach((v, i) => assert.ok(relativeError(got[i], v) <= 1e-5, `case ${i}: ${relativeError(got[i], v)}`));
});

test('the SIMD convolution, depthwise and hard-activation kernels leave no buffers behind on wasm', async () => {
  const rand = rng(83);
  await onBackend('wasm', () => tf.zeros([1]));
  const x = tf.tensor4d(randomValues(rand, 2 * 12 * 12 * 64), [2, 12, 12, 64]);
  const buffers = () => tf.engine().backend.numDataIds();
  const before = buffers();
  for (let i = 0; i < 2; i++) {
    tf.tidy(() => {
      const conv = tf.fused.conv2d({ x, filter: tf.ones([3, 3, 64, 64]), strides: 1, pad: 1, bias: tf.zeros([64]), activation: 'relu' }); // im2col
      const dw = tf.fused.depthwiseConv2d({ x: conv, filter: tf.ones([5, 5, 64, 1]), strides: 2, pad: 2, bias: tf.zeros([64]), activation: 'relu' });
      return hardSwish(dw).dataSync();
    });
  }
  assert.equal(buffers(), before);
  x.dispose();
});
