// Registers torchport's wasm kernels: the gradients stock tfjs-backend-wasm lacks, and faster
// replacements for the ones it has but runs slowly. Idempotent.
import * as tf from '@tensorflow/tfjs-core';
import { explicitTransposeMatMul } from './batch_matmul.js';
import { conv2dBackpropFilterKernel } from './conv2d_backprop_filter.js';
import { conv2dBackpropInputKernel } from './conv2d_backprop_input.js';
import { depthwiseBackpropFilterKernel } from './depthwise_backprop_filter.js';
import { depthwiseBackpropInputKernel } from './depthwise_backprop_input.js';
import { unsortedSegmentSumKernel } from './unsorted_segment_sum.js';

/** The kernels stock wasm lacks, plus Conv2DBackpropInput, which it has but runs slowly. */
const OWN_KERNELS: readonly tf.KernelConfig[] = [
  conv2dBackpropFilterKernel,
  conv2dBackpropInputKernel,
  depthwiseBackpropFilterKernel,
  depthwiseBackpropInputKernel,
  unsortedSegmentSumKernel,
];

let registered: string[] | undefined;

function replace(kernel: tf.KernelConfig): void {
  if (tf.getKernel(kernel.kernelName, 'wasm')) tf.unregisterKernel(kernel.kernelName, 'wasm');
  tf.registerKernel(kernel);
}

/** Registers torchport's kernels for 'wasm' (over stock ones where they exist); returns their names. */
export function registerWasmKernels(): string[] {
  if (registered) return registered;
  const stockMatMul = tf.getKernel('BatchMatMul', 'wasm');
  if (!stockMatMul) throw new Error('the wasm backend is not loaded: BatchMatMul is missing');
  const kernels = [...OWN_KERNELS, explicitTransposeMatMul(stockMatMul)];
  kernels.forEach(replace);
  registered = kernels.map((k) => k.kernelName);
  return registered;
}
