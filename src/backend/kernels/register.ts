// Registers torchport's wasm kernels: the gradients stock tfjs-backend-wasm lacks, and faster
// replacements for kernels it has but runs slowly. Idempotent.
import * as tf from '@tensorflow/tfjs-core';
import { tilingAvgPoolGrad } from './avg-pool-grad.js';
import { explicitTransposeMatMul } from './batch-matmul.js';
import { conv2dBackpropFilterKernel } from './conv2d-backprop-filter.js';
import { conv2dBackpropInputKernel } from './conv2d-backprop-input.js';
import { depthwiseBackpropFilterKernel } from './depthwise-backprop-filter.js';
import { depthwiseBackpropInputKernel } from './depthwise-backprop-input.js';
import { rowGather } from './gather.js';
import { hardSigmoidKernel, hardSwishKernel } from './hard-activations.js';
import { poolMean, poolSum } from './reduce.js';
import { leadingReverse } from './reverse.js';
import { heapSlice, heapSplitV } from './slice.js';
import { simdConv2D, simdFusedConv2D } from './simd-conv.js';
import { simdDepthwise, simdFusedDepthwise } from './simd-depthwise.js';
import { simdBatchMatMul, simdFusedMatMul } from './simd-matmul.js';
import { sharingCast, sharingIdentity } from './share-data.js';
import { unsortedSegmentSumKernel } from './unsorted-segment-sum.js';

/**
 * Kernels of our own: the four stock wasm lacks, Conv2DBackpropInput, which it runs slowly, and
 * the hard activations (one pass instead of four ops).
 */
const OWN_KERNELS: readonly tf.KernelConfig[] = [
  conv2dBackpropFilterKernel,
  conv2dBackpropInputKernel,
  depthwiseBackpropFilterKernel,
  depthwiseBackpropInputKernel,
  unsortedSegmentSumKernel,
  hardSigmoidKernel,
  hardSwishKernel,
];

/** Wrappers that take the fast path where they can and call the stock kernel otherwise. */
const WRAPPERS: ReadonlyArray<[string, (stock: tf.KernelConfig) => tf.KernelConfig]> = [
  ['BatchMatMul', (stock) => simdBatchMatMul(explicitTransposeMatMul(stock))],
  ['_FusedMatMul', simdFusedMatMul],
  ['Conv2D', simdConv2D],
  ['FusedConv2D', simdFusedConv2D],
  ['DepthwiseConv2dNative', simdDepthwise],
  ['FusedDepthwiseConv2D', simdFusedDepthwise],
  ['Identity', sharingIdentity],
  ['Cast', sharingCast],
  ['Sum', poolSum],
  ['Mean', poolMean],
  ['GatherV2', rowGather],
  ['AvgPoolGrad', tilingAvgPoolGrad],
  ['Reverse', leadingReverse],
  ['Slice', heapSlice],
  ['SplitV', heapSplitV],
];

let registered: string[] | undefined;

function replace(kernel: tf.KernelConfig): void {
  if (tf.getKernel(kernel.kernelName, 'wasm')) tf.unregisterKernel(kernel.kernelName, 'wasm');
  tf.registerKernel(kernel);
}

/** Registers torchport's kernels for 'wasm' (over stock ones where they exist); returns their names. */
export function registerWasmKernels(): string[] {
  if (registered) return registered;
  const wrapped = WRAPPERS.map(([name, wrap]) => {
    const stock = tf.getKernel(name, 'wasm');
    if (!stock) throw new Error(`the wasm backend is not loaded: its ${name} kernel is missing`);
    return wrap(stock);
  });
  const kernels = [...OWN_KERNELS, ...wrapped];
  kernels.forEach(replace);
  registered = kernels.map((k) => k.kernelName);
  return registered;
}
