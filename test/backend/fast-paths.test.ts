// The wasm fast paths that replace stock kernels (Sum/Mean by pooling, Identity/Cast by sharing,
// AvgPoolGrad of tiling windows, Reverse of leading axes, Slice/SplitV on the heap) give the cpu
// backend's results on the shapes they take and on the ones they hand back to stock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { onBackend, randomValues, relativeError, rng } from './helpers.js';

test('Sum and Mean over leading/middle axes (and every other axis choice) on wasm match cpu', async () => {
  const rand = rng(31);
  const shape = [3, 5, 7, 4];
  const x = randomValues(rand, 3 * 5 * 7 * 4);
  const choices: Array<number[] | number | null> = [[0, 1, 2], [1, 2], [0], [1], [-3, -2], [2, 3], [3], [0, 3], null];
  for (const axis of choices) {
    for (const keepDims of [false, true]) {
      const run = () => [tf.sum(tf.tensor(x, shape), axis ?? undefined, keepDims), tf.mean(tf.tensor(x, shape), axis ?? undefined, keepDims)];
      const want = await onBackend('cpu', run);
      const got = await onBackend('wasm', run);
      for (let i = 0; i < 2; i++) assert.ok(relativeError(got[i], want[i]) <= 1e-5, `${i ? 'mean' : 'sum'} axis ${axis} keepDims ${keepDims}`);
    }
  }
  // A BatchNorm-sized reduction: 2 x 56 x 56 positions per channel.
  const big = randomValues(rand, 2 * 56 * 56 * 8);
  const run = () => [tf.sum(tf.tensor(big, [2, 56, 56, 8]), [0, 1, 2])];
  assert.ok(relativeError((await onBackend('wasm', run))[0], (await onBackend('cpu', run))[0]) <= 1e-5);
  const ints = () => [tf.sum(tf.tensor([[1, 2], [3, 4]], [2, 2], 'int32'), 0)];
  assert.deepEqual([...(await onBackend('wasm', ints))[0]], [4, 6]);
});

test('Identity and same-dtype Cast share data on wasm; converting casts still convert', async () => {
  await onBackend('wasm', () => tf.zeros([1]));
  const x = tf.tensor([1.5, -2.25, 3]);
  const before = tf.memory().numDataBuffers;
  const copy = tf.clone(x);
  const same = tf.cast(x, 'float32');
  assert.equal(tf.memory().numDataBuffers, before, 'no new buffers');
  x.dispose();
  assert.deepEqual([...copy.dataSync()], [1.5, -2.25, 3], 'the shared data outlives the original');
  assert.deepEqual([...same.dataSync()], [1.5, -2.25, 3]);
  const ints = tf.cast(copy, 'int32');
  assert.equal(ints.dtype, 'int32');
  assert.deepEqual([...ints.dataSync()], [1, -2, 3]);
  tf.dispose([copy, same, ints]);
  assert.equal(tf.memory().numDataBuffers, before - 1);
});

test('AvgPoolGrad on wasm matches cpu for tiling windows (fast path) and overlapping ones (stock)', async () => {
  const rand = rng(47);
  const cases: Array<{ shape: [number, number, number, number]; filter: [number, number]; stride: number | [number, number]; pad: 'valid' | 'same' }> = [
    { shape: [6, 3, 1, 5], filter: [3, 1], stride: 1, pad: 'valid' }, // RoIAlign's taps: one window per column
    { shape: [2, 4, 6, 3], filter: [2, 3], stride: [2, 3], pad: 'valid' }, // non-overlapping tiles
    { shape: [2, 5, 5, 4], filter: [5, 5], stride: 2, pad: 'valid' }, // global pooling
    { shape: [2, 5, 5, 4], filter: [3, 3], stride: 1, pad: 'valid' }, // overlapping: stock kernel
    { shape: [2, 4, 4, 3], filter: [2, 2], stride: 2, pad: 'same' }, // padded: stock kernel
  ];
  for (const { shape, filter, stride, pad } of cases) {
    const x = randomValues(rand, shape.reduce((a, b) => a * b, 1));
    const outShape = tf.tidy(() => tf.avgPool(tf.zeros(shape) as tf.Tensor4D, filter, stride, pad).shape);
    const dy = randomValues(rand, outShape.reduce((a, b) => a * b, 1));
    const run = () => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.avgPool(t as tf.Tensor4D, filter, stride, pad), tf.tensor(dy, outShape))))(tf.tensor4d(x, shape));
    const got = await onBackend('wasm', run);
    const want = await onBackend('cpu', run);
    assert.ok(relativeError(got[0], want[0]) <= 1e-6, `${JSON.stringify({ shape, filter, stride, pad })}`);
  }
});

test('Reverse on wasm matches cpu for leading axes (row gather) and any others (stock)', async () => {
  const rand = rng(53);
  const shape = [3, 2, 4, 5];
  const x = randomValues(rand, 3 * 2 * 4 * 5);
  for (const axes of [[0], [0, 1], [1, 0], [0, 1, 2], [0, 1, 2, 3], [1], [0, 2], [-1], [-4, -3]]) {
    const run = () => tf.reverse(tf.tensor(x, shape), axes);
    assert.deepEqual([...(await onBackend('wasm', run))[0]], [...(await onBackend('cpu', run))[0]], `axes ${axes}`);
  }
  const ints = () => tf.reverse(tf.tensor([[1, 2], [3, 4], [5, 6]], [3, 2], 'int32'), 0);
  assert.deepEqual([...(await onBackend('wasm', ints))[0]], [5, 6, 3, 4, 1, 2]);
  const empty = () => tf.reverse(tf.zeros([0, 3]), 0);
  assert.equal((await onBackend('wasm', empty))[0].length, 0);
});

test('Slice and SplitV on wasm match cpu on random blocks of ranks 1-5, int32 too', async () => {
  const rand = rng(59);
  const int = (n: number) => Math.floor(rand() * n);
  for (let c = 0; c < 40; c++) {
    const shape = Array.from({ length: 1 + int(5) }, () => 1 + int(5));
    const begin = shape.map((d) => int(d));
    const size = shape.map((d, i) => (rand() < 0.2 ? -1 : int(d - begin[i] + 1)));
    const x = randomValues(rand, shape.reduce((a, b) => a * b, 1));
    const axis = int(shape.length);
    const splits = rand() < 0.5 ? 1 : [shape[axis] - 1, 1].filter((n) => n > 0);
    const run = () => [tf.slice(tf.tensor(x, shape), begin, size), ...tf.split(tf.tensor(x, shape), splits, axis)];
    const got = await onBackend('wasm', run);
    const want = await onBackend('cpu', run);
    assert.equal(got.length, want.length);
    got.forEach((g, i) => assert.deepEqual([...g], [...want[i]], `shape ${shape} begin ${begin} size ${size} axis ${axis} (output ${i})`));
  }
  const ints = () => tf.slice(tf.tensor([[1, 2, 3], [4, 5, 6]], [2, 3], 'int32'), [0, 1], [2, 2]);
  assert.deepEqual([...(await onBackend('wasm', ints))[0]], [2, 3, 5, 6]);
});
