// torchport's hard-sigmoid and hard-swish kernels on wasm: one generated SIMD pass over the heap
// (src/backend/simd/hard-activations-kernel.ts), the last < 4 floats in JS.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { HARD_SIGMOID, HARD_SWISH, hardActivation } from '../ops/hard-activations.js';
import { hardActivationsModule } from '../simd/hard-activations-kernel.js';
import { kernelOnHeap } from '../simd/relaxed-simd.js';
import { backendMemory } from './wasm-heap.js';

type Pass = (x: number, y: number, vectors: number) => void;

function wasmKernel(kernelName: string, swish: boolean): tf.KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const { x } = inputs as { x: tf.TensorInfo };
      const wasm = backend as BackendWasm;
      const out = wasm.makeOutput(x.shape, 'float32');
      const xs = wasm.typedArrayFromHeap(x) as Float32Array;
      const ys = wasm.typedArrayFromHeap(out) as Float32Array;
      const memory = backendMemory(wasm);
      const exports = memory && kernelOnHeap(memory, hardActivationsModule, (e) => e);
      const vectors = exports ? Math.floor(xs.length / 4) : 0;
      if (exports) (exports[swish ? 'hardSwish' : 'hardSigmoid'] as Pass)(xs.byteOffset, ys.byteOffset, vectors);
      hardActivation(xs, ys, vectors * 4, swish);
      return out;
    },
  };
}

export const hardSigmoidKernel = wasmKernel(HARD_SIGMOID, false);
export const hardSwishKernel = wasmKernel(HARD_SWISH, true);
