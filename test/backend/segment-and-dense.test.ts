// UnsortedSegmentSum (gather's gradient), the BatchMatMul transpose wrapper and dense() on wasm,
// against the cpu backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { dense } from '../../src/backend/ops/dense.js';
import { onBackend, randomValues, relativeError, rng } from './helpers.js';

test('UnsortedSegmentSum on wasm matches cpu, including repeated, unused and out-of-range ids', async () => {
  const rand = rng(11);
  for (const [rows, inner, numSegments] of [[1, [3], 4], [50, [7], 9], [300, [2, 5], 40], [1000, [16], 3]] as const) {
    const x = randomValues(rand, rows * inner.reduce((a, b) => a * b, 1));
    const ids = Int32Array.from({ length: rows }, () => Math.floor(rand() * (numSegments + 2)) - 1);
    const run = () => tf.unsortedSegmentSum(tf.tensor(x, [rows, ...inner]), tf.tensor1d(ids, 'int32'), numSegments);
    const [want] = await onBackend('cpu', run);
    const [got] = await onBackend('wasm', run);
    assert.ok(relativeError(got, want) <= 1e-5, `rows ${rows}: ${relativeError(got, want)}`);
  }
});

test('the gradient of gather on wasm matches cpu and leaks nothing', async () => {
  const rand = rng(12);
  const params = randomValues(rand, 20 * 6);
  const ids = Int32Array.from({ length: 64 }, () => Math.floor(rand() * 20));
  const grad = () => tf.grad((p: tf.Tensor) => tf.sum(tf.square(tf.gather(p, tf.tensor1d(ids, 'int32')))))(tf.tensor(params, [20, 6]));
  const [want] = await onBackend('cpu', grad);
  const [got] = await onBackend('wasm', grad);
  assert.ok(relativeError(got, want) <= 1e-5);
  const before = tf.memory().numTensors;
  tf.dispose(tf.tidy(grad));
  assert.equal(tf.memory().numTensors, before);
});

test('matMul on wasm (explicit transposes, swapped operand order) matches cpu for every flag and shape kind', async () => {
  const rand = rng(13);
  // [m, k, n, batch]: tiny, small m with large n (computed as (b^T a^T)^T), large m with small n
  for (const [m, k, n, batch] of [[7, 5, 3, 2], [3, 40, 200, 1], [3, 40, 200, 2], [200, 40, 3, 1]]) {
    const a = randomValues(rand, batch * m * k);
    const b = randomValues(rand, batch * k * n);
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const shapeA = ta ? [batch, k, m] : [batch, m, k];
      const shapeB = tb ? [batch, n, k] : [batch, k, n];
      const run = () => {
        const right = tf.tensor(b, shapeB);
        // twice with the same right operand: the second call takes the "packed before" path
        return [tf.matMul(tf.tensor(a, shapeA), right, ta, tb), tf.matMul(tf.tensor(a, shapeA), right, ta, tb)];
      };
      const want = await onBackend('cpu', run);
      const got = await onBackend('wasm', run);
      for (let i = 0; i < 2; i++) assert.ok(relativeError(got[i], want[i]) <= 1e-5, `m${m} k${k} n${n} batch${batch} transposeA ${ta} transposeB ${tb} call ${i}`);
    }
  }
  const before = tf.memory();
  tf.dispose(tf.tidy(() => tf.matMul(tf.ones([2, 3, 40]), tf.ones([2, 40, 200]))));
  assert.equal(tf.memory().numDataBuffers, before.numDataBuffers);
});

test('dense() computes x @ kernel + bias with the same gradients as matMul, on any leading shape', async () => {
  const rand = rng(14);
  const x = randomValues(rand, 2 * 3 * 6);
  const k = randomValues(rand, 6 * 4);
  const bias = randomValues(rand, 4);
  const dy = randomValues(rand, 2 * 3 * 4);
  const loss = (f: (xx: tf.Tensor, kk: tf.Tensor2D, bb: tf.Tensor1D) => tf.Tensor) => (xx: tf.Tensor, kk: tf.Tensor, bb: tf.Tensor) =>
    tf.sum(tf.mul(f(xx, kk as tf.Tensor2D, bb as tf.Tensor1D), tf.tensor(dy, [2, 3, 4])));
  const inputs = () => [tf.tensor(x, [2, 3, 6]), tf.tensor(k, [6, 4]), tf.tensor(bias, [4])];
  const reference = (xx: tf.Tensor, kk: tf.Tensor2D, bb: tf.Tensor1D) =>
    tf.add(tf.reshape(tf.matMul(tf.reshape(xx, [6, 6]), kk), [2, 3, 4]), bb);
  const run = (f: typeof reference) => () => {
    const [value, grads] = [f(...(inputs() as [tf.Tensor, tf.Tensor2D, tf.Tensor1D])), tf.grads(loss(f))(inputs())];
    return [value, ...grads];
  };
  const want = await onBackend('cpu', run(reference));
  for (const backend of ['cpu', 'wasm'] as const) {
    const got = await onBackend(backend, run(dense));
    got.forEach((g, i) => assert.ok(relativeError(g, want[i]) <= 1e-5, `${backend} output ${i}`));
  }
  const noBias = await onBackend('wasm', () => dense(tf.tensor(x, [6, 6]), tf.tensor(k, [6, 4]) as tf.Tensor2D));
  const [plain] = await onBackend('cpu', () => tf.matMul(tf.tensor(x, [6, 6]), tf.tensor(k, [6, 4])));
  assert.ok(relativeError(noBias[0], plain) <= 1e-5);
  assert.throws(() => dense(tf.zeros([2, 5]), tf.zeros([6, 4]) as tf.Tensor2D), /dense: input \[2,5\] has 5 features, kernel \[6,4\] expects 6/);
});

test('GatherV2 on wasm (row copies) matches cpu on every axis, with repeated ids and int32 data; bad ids throw', async () => {
  const rand = rng(15);
  for (const [shape, axis] of [[[20, 6], 0], [[3, 20, 5], 1], [[4, 3, 20], 2], [[2, 20, 3, 4], 1], [[20], 0]] as const) {
    const size = shape.reduce((a, b) => a * b, 1);
    const x = randomValues(rand, size);
    const ids = Int32Array.from({ length: 33 }, () => Math.floor(rand() * 20));
    const idShape = axis === 1 ? [3, 11] : [33];
    const run = () => [
      tf.gather(tf.tensor(x, [...shape]), tf.tensor(ids, idShape, 'int32'), axis),
      tf.gather(tf.tensor(Int32Array.from(x, (v) => Math.round(v * 1000)), [...shape], 'int32'), tf.tensor(ids, idShape, 'int32'), axis),
    ];
    const want = await onBackend('cpu', run);
    const got = await onBackend('wasm', run);
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(Array.from(got[i]), Array.from(want[i]), `shape ${shape} axis ${axis} ${i ? 'int32' : 'float32'}`);
    }
  }
  await onBackend('wasm', () => {
    assert.throws(() => tf.gather(tf.ones([4, 2]), tf.tensor1d([1, 4], 'int32')), /GatherV2: the index value 4 is not in \[0, 3\]/);
    return [];
  });
});

test('a matMul whose right operand overflows the cache is summed over depth blocks on wasm, correctly', async () => {
  const rand = rng(17);
  // k * n just over 2^21 elements, m large enough for the direct order and for splitting: two
  // depth blocks of 1024 (see batch-matmul.ts)
  const [m, k, n] = [1024, 2048, 1025];
  const a = randomValues(rand, m * k);
  const b = randomValues(rand, k * n);
  const run = () => {
    const right = tf.tensor2d(b, [k, n]);
    // the first call is split (an unseen right operand), the second is not (XNNPACK keeps it packed)
    return [tf.matMul(tf.tensor2d(a, [m, k]), right), tf.matMul(tf.tensor2d(a, [m, k]), right)];
  };
  await onBackend('wasm', () => tf.zeros([1]));
  const before = tf.memory().numDataBuffers;
  const [split, whole] = await onBackend('wasm', run);
  assert.equal(tf.memory().numDataBuffers, before, 'no buffers leak');
  assert.ok(relativeError(split, whole) <= 1e-5);
  // 300 entries against float64 dot products (the cpu backend would take seconds for the whole)
  const got: number[] = [];
  const want: number[] = [];
  for (let t = 0; t < 300; t++) {
    const i = Math.floor(rand() * m);
    const j = Math.floor(rand() * n);
    let dot = 0;
    for (let q = 0; q < k; q++) dot += a[i * k + q] * b[q * n + j];
    got.push(split[i * n + j]);
    want.push(dot);
  }
  assert.ok(relativeError(got, want) <= 1e-5);
});
