// The composite wasm convolution gradients against the cpu backend's kernels on random shapes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { onBackend, pick, randomValues, relativeError, rng } from './helpers.js';

type Pad = 'same' | 'valid' | number | [[0, 0], [number, number], [number, number], [0, 0]];

interface Case {
  n: number; h: number; w: number; c: number; out: number; k: number; stride: number; dilation: number; pad: Pad;
}

function randomCase(rand: () => number, depthwise: boolean): Case {
  const k = pick(rand, [1, 3, 5]);
  const stride = pick(rand, [1, 2]);
  const dilation = depthwise && stride === 1 ? pick(rand, [1, 2]) : 1;
  const pads: Pad[] = ['same', 'valid', Math.floor(rand() * 3), [[0, 0], [Math.floor(rand() * 3), Math.floor(rand() * 3)], [Math.floor(rand() * 3), Math.floor(rand() * 3)], [0, 0]]];
  const c = 1 + Math.floor(rand() * 6);
  return {
    n: 1 + Math.floor(rand() * 3),
    h: (k - 1) * dilation + 1 + Math.floor(rand() * 9),
    w: (k - 1) * dilation + 1 + Math.floor(rand() * 9),
    c,
    out: depthwise ? c * pick(rand, [1, 1, 2]) : 1 + Math.floor(rand() * 7),
    k, stride, dilation,
    pad: pick(rand, pads),
  };
}

function dilateFilter(values: Float32Array, shape: number[], d: number): Float32Array {
  const [k, , ci, co] = shape;
  const e = (k - 1) * d + 1;
  const out = new Float32Array(e * e * ci * co);
  for (let a = 0; a < k; a++)
    for (let b = 0; b < k; b++)
      out.set(values.subarray((a * k + b) * ci * co, (a * k + b + 1) * ci * co), (a * d * e + b * d) * ci * co);
  return out;
}

function tapsOf(values: Float32Array, expanded: number[], d: number): Float32Array {
  const [e, , ci, co] = expanded;
  const k = (e - 1) / d + 1;
  const out = new Float32Array(k * k * ci * co);
  for (let a = 0; a < k; a++)
    for (let b = 0; b < k; b++)
      out.set(values.subarray((a * d * e + b * d) * ci * co, (a * d * e + b * d + 1) * ci * co), (a * k + b) * ci * co);
  return out;
}

function describe(c: Case): string {
  return JSON.stringify(c);
}

async function compare(kernel: string, c: Case, depthwise: boolean, rand: () => number): Promise<void> {
  const filterShape = depthwise ? [c.k, c.k, c.c, c.out / c.c] : [c.k, c.k, c.c, c.out];
  const xShape = [c.n, c.h, c.w, c.c];
  const strides: [number, number] = [c.stride, c.stride];
  const dilations: [number, number] = [c.dilation, c.dilation];
  const info = tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number], filterShape as [number, number, number, number], strides, dilations, c.pad, undefined, depthwise);
  if (info.outHeight <= 0 || info.outWidth <= 0) return;
  const dyShape = [c.n, info.outHeight, info.outWidth, c.out];
  const xv = randomValues(rand, tf.util.sizeFromShape(xShape));
  const fv = randomValues(rand, tf.util.sizeFromShape(filterShape));
  const dyv = randomValues(rand, tf.util.sizeFromShape(dyShape));
  const attrs = { strides, pad: c.pad, dilations, filterShape, inputShape: xShape, dataFormat: 'NHWC' };
  const run = (kernelAttrs: object, filter: Float32Array, fShape: number[]) => () => {
    const dy = tf.tensor(dyv, dyShape);
    const inputs: tf.NamedTensorMap = kernel.endsWith('Filter') ? { x: tf.tensor(xv, xShape), dy } : { dy, filter: tf.tensor(filter, fShape) };
    return tf.engine().runKernel(kernel, inputs, kernelAttrs as tf.NamedAttrMap) as tf.Tensor;
  };
  // The cpu kernels ignore dilation, so for d > 1 the reference is the undilated gradient of the
  // equivalent conv whose filter has zeros between its taps.
  const d = c.dilation;
  const expanded = [(c.k - 1) * d + 1, (c.k - 1) * d + 1, filterShape[2], filterShape[3]];
  const [cpuOut] = await onBackend(
    'cpu',
    d === 1
      ? run(attrs, fv, filterShape)
      : run({ ...attrs, dilations: [1, 1], filterShape: expanded }, dilateFilter(fv, filterShape, d), expanded),
  );
  const want = d > 1 && kernel.endsWith('Filter') ? tapsOf(cpuOut, expanded, d) : cpuOut;
  const [got] = await onBackend('wasm', run(attrs, fv, filterShape));
  const err = relativeError(got, want);
  assert.ok(err <= 1e-4, `${kernel} ${describe(c)}: relative error ${err}`);
}

for (const [kernel, depthwise] of [
  ['Conv2DBackpropFilter', false],
  ['Conv2DBackpropInput', false],
  ['DepthwiseConv2dNativeBackpropFilter', true],
  ['DepthwiseConv2dNativeBackpropInput', true],
] as const) {
  test(`${kernel} on wasm matches cpu on 40 random shapes`, async () => {
    const rand = rng(kernel.length * 7919);
    for (let i = 0; i < 40; i++) await compare(kernel, randomCase(rand, depthwise), depthwise, rand);
  });
}

test('the conv gradient kernels leak no tensors or buffers on wasm', async () => {
  await onBackend('wasm', () => tf.zeros([1]));
  const x = tf.randomNormal([2, 9, 9, 4]);
  const w = tf.randomNormal([3, 3, 4, 6]);
  const dw = tf.randomNormal([3, 3, 6, 1]);
  const loss = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
    tf.sum(tf.depthwiseConv2d(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'), c as tf.Tensor4D, 1, 'same'));
  tf.dispose(tf.grads(loss)([x, w, dw])); // warm-up: first use may allocate lasting state
  const before = tf.memory();
  for (let i = 0; i < 3; i++) tf.dispose(tf.grads(loss)([x, w, dw]));
  const after = tf.memory();
  assert.equal(after.numTensors, before.numTensors);
  assert.equal(after.numDataBuffers, before.numDataBuffers);
  tf.dispose([x, w, dw]);
});
