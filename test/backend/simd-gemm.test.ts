// torchport's relaxed-SIMD GEMM (src/backend/simd, used by the wasm BatchMatMul and _FusedMatMul
// kernels) gives the cpu backend's products: every transpose combination, row counts that leave
// 1-3 rows after the 4-row tiles, more rows than one row block and more depth than one depth
// block, the fused bias and ReLU, convolutions (1x1 and im2col), and operands met again (packed
// once, kept while they live).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { gemmSupported } from '../../src/backend/simd/heap-gemm.js';
import { setSimdGemm } from '../../src/backend/kernels/simd-product.js';
import { simdCallsTo } from '../../src/backend/simd/relaxed-simd.js';
import { onBackend, pick, randomValues, relativeError, rng } from './helpers.js';

test('the GEMM module compiles with relaxed SIMD on this runtime', () => {
  assert.ok(gemmSupported(), 'relaxed SIMD unavailable: the wasm matMul would fall back to XNNPACK');
});

test('SIMD matMul and fused matMul on wasm match cpu over transposes, tails and blocks', async () => {
  const rand = rng(71);
  // [m, k, n]: tails of 1-3 rows, m past one 128-row block, k past one 1024-deep block
  const shapes = [[129, 1030, 64], [130, 257, 136], [131, 300, 520], [64, 2100, 72], [300, 80, 200], [4, 40000, 32]];
  for (const [m, k, n] of shapes) {
    const transposeA = pick(rand, [false, true]);
    const transposeB = pick(rand, [false, true]);
    const a = randomValues(rand, m * k);
    const b = randomValues(rand, k * n);
    const bias = randomValues(rand, n);
    const run = () => {
      const at = tf.tensor2d(a, transposeA ? [k, m] : [m, k]);
      const bt = tf.tensor2d(b, transposeB ? [n, k] : [k, n]);
      return [tf.matMul(at, bt, transposeA, transposeB), tf.fused.matMul({ a: at, b: bt, transposeA, transposeB, bias: tf.tensor1d(bias), activation: 'relu' })];
    };
    const want = await onBackend('cpu', run);
    const calls = simdCallsTo('gemm');
    const got = await onBackend('wasm', run);
    const label = `${m}x${k}x${n} transposeA=${transposeA} transposeB=${transposeB}`;
    assert.ok(simdCallsTo('gemm') > calls, `${label}: the SIMD GEMM ran`);
    assert.ok(relativeError(got[0], want[0]) <= 1e-4, `matMul ${label}: ${relativeError(got[0], want[0])}`);
    assert.ok(relativeError(got[1], want[1]) <= 1e-4, `fused ${label}: ${relativeError(got[1], want[1])}`);
  }
});

test('convolutions as products (1x1, and im2col for larger filters) on wasm match cpu', async () => {
  const rand = rng(74);
  const [n, h, w, cin, cout] = [2, 20, 21, 40, 136]; // 840 x 40 x 136: over the SIMD GEMM's threshold
  const x = randomValues(rand, n * h * w * cin);
  const f1 = randomValues(rand, cin * cout);
  const f3 = randomValues(rand, 9 * cin * cout);
  const f2 = randomValues(rand, 2 * 3 * 3 * cout);
  const bias = randomValues(rand, cout);
  const run = () => {
    const xt = tf.tensor4d(x, [n, h, w, cin]);
    const k1 = tf.tensor4d(f1, [1, 1, cin, cout]);
    const k3 = tf.tensor4d(f3, [3, 3, cin, cout]);
    const b = tf.tensor1d(bias);
    return [
      tf.conv2d(xt, k1, 1, 0),
      tf.fused.conv2d({ x: xt, filter: k1, strides: 1, pad: 'valid', bias: b, activation: 'relu' }),
      tf.fused.conv2d({ x: xt, filter: k1, strides: 1, pad: 'same', bias: b }),
      tf.conv2d(xt, k1, 2, 0), // 1x1 strided: im2col
      tf.fused.conv2d({ x: xt, filter: k3, strides: 1, pad: 1, bias: b, activation: 'relu' }),
      tf.fused.conv2d({ x: xt, filter: k3, strides: 2, pad: 'same', bias: b }), // asymmetric padding
      tf.conv2d(xt, k3, 1, 'valid', 'NHWC', 2), // dilated
      tf.conv2d(xt, k3, [2, 1], [[0, 0], [2, 0], [0, 1], [0, 0]]), // explicit, uneven
      tf.conv2d(tf.slice(xt, [0, 0, 0, 0], [-1, -1, -1, 3]), tf.tensor4d(f2.slice(0, 3 * 3 * 3 * 8), [3, 3, 3, 8]), 1, 1), // too shallow: XNNPACK
      tf.fused.conv2d({ x: xt, filter: k1, strides: 1, pad: 0, bias: b, activation: 'relu6' }), // activation it does not fuse
    ];
  };
  const want = await onBackend('cpu', run);
  const got = await onBackend('wasm', run);
  want.forEach((v, i) => assert.ok(relativeError(got[i], v) <= 1e-4, `case ${i}: ${relativeError(got[i], v)}`));
  // each convolution meant for the GEMM runs it (the too-shallow one and the relu6 one do not)
  for (const [i, conv] of [[0, () => tf.conv2d(tf.tensor4d(x, [n, h, w, cin]), tf.tensor4d(f1, [1, 1, cin, cout]), 1, 0)],
    [4, () => tf.fused.conv2d({ x: tf.tensor4d(x, [n, h, w, cin]), filter: tf.tensor4d(f3, [3, 3, cin, cout]), strides: 1, pad: 1, bias: tf.tensor1d(bias), activation: 'relu' })]] as const) {
    const calls = simdCallsTo('gemm');
    await onBackend('wasm', () => [conv()]);
    assert.ok(simdCallsTo('gemm') > calls, `case ${i}: the SIMD GEMM ran`);
  }
  const calls = simdCallsTo('gemm');
  await onBackend('wasm', () => [tf.conv2d(tf.tensor4d(x.subarray(0, n * h * w * 3), [n, h, w, 3]), tf.tensor4d(f2.slice(0, 3 * 3 * 3 * 8), [3, 3, 3, 8]), 1, 1)]);
  assert.equal(simdCallsTo('gemm'), calls, 'a 3-channel convolution is left to XNNPACK');
});

test('a stride-4-sized conv and its filter gradient run on the GEMM in im2col blocks and match cpu', async () => {
  const rand = rng(75);
  // 7,200 output rows x 576 im2col columns: several forward blocks, two filter-gradient blocks (the last one short)
  const [n, h, w, cin, cout] = [2, 60, 60, 64, 64];
  const x = randomValues(rand, n * h * w * cin);
  const f3 = randomValues(rand, 9 * cin * cout);
  const bias = randomValues(rand, cout);
  const dyFull = randomValues(rand, n * h * w * cout);
  const dyHalf = randomValues(rand, n * 30 * 30 * cout);
  const filterGrad = (strides: number, dy: Float32Array, size: number) => tf.engine().runKernel(
    'Conv2DBackpropFilter',
    { x: tf.tensor4d(x, [n, h, w, cin]), dy: tf.tensor4d(dy, [n, size, size, cout]) },
    { strides, pad: 1, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: [3, 3, cin, cout] } as unknown as tf.NamedAttrMap,
  ) as tf.Tensor;
  const run = () => [
    tf.fused.conv2d({ x: tf.tensor4d(x, [n, h, w, cin]), filter: tf.tensor4d(f3, [3, 3, cin, cout]), strides: 1, pad: 1, bias: tf.tensor1d(bias), activation: 'relu' }),
    filterGrad(1, dyFull, h),
    filterGrad(2, dyHalf, 30),
  ];
  // the reference: wasm's unblocked kernels without the SIMD GEMM (conv-kernels.test.ts holds them
  // to cpu), minutes faster than cpu on maps this size
  setSimdGemm(false);
  let want: Float32Array[];
  try {
    const calls = simdCallsTo('gemm');
    want = await onBackend('wasm', run);
    assert.equal(simdCallsTo('gemm'), calls, 'the reference ran without the SIMD GEMM');
  } finally {
    setSimdGemm(true);
  }
  const calls = simdCallsTo('gemm');
  const got = await onBackend('wasm', run);
  assert.ok(simdCallsTo('gemm') > calls, 'the SIMD GEMM ran');
  want.forEach((v, i) => assert.ok(relativeError(got[i], v) <= 1e-4, `case ${i}: ${relativeError(got[i], v)}`));
});

test('stock wasm _FusedMatMul with transposed operands is corrected where the SIMD path declines', async () => {
  const rand = rng(72);
  const [m, k, n] = [5, 12, 6]; // too small for the SIMD path, n not a multiple of 8
  const a = randomValues(rand, m * k);
  const b = randomValues(rand, k * n);
  const run = () => [tf.fused.matMul({ a: tf.tensor2d(a, [k, m]), b: tf.tensor2d(b, [n, k]), transposeA: true, transposeB: true, bias: tf.ones([n]), activation: 'relu' })];
  const want = await onBackend('cpu', run);
  try {
    for (const on of [true, false]) {
      setSimdGemm(on);
      const calls = simdCallsTo('gemm');
      assert.ok(relativeError((await onBackend('wasm', run))[0], want[0]) <= 1e-5, `simd ${on}`);
      assert.equal(simdCallsTo('gemm'), calls, `simd ${on}: too small for the SIMD GEMM`);
    }
  } finally {
    setSimdGemm(true);
  }
});

test('a right operand met again is packed once and freed with its tensor', async () => {
  const rand = rng(73);
  const [m, k, n] = [64, 512, 256];
  const [xv, wv] = [randomValues(rand, m * k), randomValues(rand, k * n)];
  const want = (await onBackend('cpu', () => tf.matMul(tf.tensor2d(xv, [m, k]), tf.tensor2d(wv, [k, n]))))[0];
  await onBackend('wasm', () => tf.zeros([1]));
  const x = tf.tensor2d(xv, [m, k]);
  const w = tf.tensor2d(wv, [k, n]);
  // a SIMD product (m x k x 128) frees the packed copies whose sources are gone
  const sweep = () => tf.tidy(() => tf.matMul(x, tf.ones([k, 128])).dispose());
  sweep(); // earlier tests' copies
  const buffers = () => tf.engine().backend.numDataIds();
  const before = buffers();
  const products = [1, 2, 3].map(() => tf.matMul(x, w));
  assert.equal(buffers(), before + 3 + 1, 'three products and one kept packed copy of w');
  for (const p of products) assert.ok(relativeError(p.dataSync(), want) <= 1e-4);
  // the same data read as another shape is packed as that shape, not served from the kept copy
  const left = () => tf.tensor2d(xv.subarray(0, 128 * 256), [128, 256]);
  const reread = tf.tidy(() => tf.matMul(left(), tf.reshape(w, [256, 512])).dataSync());
  const rereadWant = (await onBackend('cpu', () => tf.matMul(left(), tf.tensor2d(wv, [256, 512]))))[0];
  await onBackend('wasm', () => tf.zeros([1]));
  assert.ok(relativeError(reread, rereadWant) <= 1e-4, 'reshaped operand');
  tf.dispose(products);
  w.dispose();
  sweep();
  x.dispose();
  assert.equal(buffers(), before - 2, 'nothing left of x, w or the packed copy');
});
