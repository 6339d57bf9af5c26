// BatchMatMul and _FusedMatMul on wasm: torchport's SIMD GEMM where it applies (simd-product.ts),
// the stock kernel otherwise.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { swapLastTwo } from './batch-matmul.js';
import { handOver, withFastPath, wrapInputs } from './composite.js';
import { simdProduct } from './simd-product.js';

export const simdBatchMatMul = withFastPath((args) => {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
  return simdProduct(args.backend as BackendWasm, { a, b, transposeA, transposeB, relu: false });
});

/**
 * _FusedMatMul: the SIMD GEMM where it applies; otherwise the stock kernel, given explicitly
 * transposed operands when it was asked for transposed ones: stock wasm's _FusedMatMul returns
 * wrong values for transposeA/transposeB (tfjs 4.22; checked against the cpu backend).
 */
export function simdFusedMatMul(stock: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: stock.kernelName,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
      const { transposeA, transposeB, activation } = args.attrs as { transposeA: boolean; transposeB: boolean; activation: string };
      const backend = args.backend as BackendWasm;
      const simple = a && b && !preluActivationWeights && (activation === 'linear' || activation === 'relu');
      const fast = simple ? simdProduct(backend, { a, b, transposeA, transposeB, bias, relu: activation === 'relu' }) : undefined;
      if (fast) return fast;
      if (!transposeA && !transposeB) return stock.kernelFunc(args);
      return handOver(backend, tf.tidy(() => {
        const inputs = wrapInputs(backend, args.inputs);
        if (transposeA) inputs.a = swapLastTwo(inputs.a);
        if (transposeB) inputs.b = swapLastTwo(inputs.b);
        const attrs = { ...args.attrs, transposeA: false, transposeB: false };
        return tf.engine().makeTensorFromTensorInfo(stock.kernelFunc({ inputs, backend, attrs }) as tf.TensorInfo);
      }));
    },
  };
}
