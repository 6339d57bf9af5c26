// BatchMatMul and _FusedMatMul on wasm through torchport's relaxed-SIMD GEMM (src/backend/gemm),
// for single products large enough to repay packing the right operand: about 1.8x the speed of
// XNNPACK's GEMM on the Faster R-CNN box head (fc6, 150 x 12544 x 1024: ~90 ms instead of 164).
// Transposed operands cost nothing here: A is read through strides and B is packed from either
// layout. Batched products, other dtypes, column counts that are not a multiple of the panel
// width, activations other than linear/relu, and runtimes without relaxed SIMD go to the stock
// kernel.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { alignLine, heapGemm, HeapGemm, type HeapMatrix } from '../gemm/heap-gemm.js';
import { NR } from '../gemm/gemm-kernel.js';
import { handOver, withFastPath, wrapInputs } from './composite.js';
import { swapLastTwo } from './batch_matmul.js';
import { PackedRightOperands } from './packed_right.js';

/** Smaller products stay with XNNPACK: packing and call overhead would eat the gain. */
const MIN_MULTIPLY_ADDS = 1 << 22;

let enabled = true;
const packedRight = new PackedRightOperands();

/** Turns the SIMD GEMM path off or on (for benchmarks that compare it with the stock kernels). */
export function setSimdMatMul(on: boolean): void {
  enabled = on;
}

interface Product {
  a: tf.TensorInfo;
  b: tf.TensorInfo;
  transposeA: boolean;
  transposeB: boolean;
  bias?: tf.TensorInfo;
  relu: boolean;
}

function memoryOf(backend: BackendWasm): WebAssembly.Memory | undefined {
  const memory = (backend.wasm as unknown as { asm?: { memory?: unknown } }).asm?.memory;
  return memory instanceof WebAssembly.Memory ? memory : undefined;
}

const single = (t: tf.TensorInfo) => tf.util.sizeFromShape(t.shape.slice(0, -2)) === 1;

function simdProduct(backend: BackendWasm, { a, b, transposeA, transposeB, bias, relu }: Product): tf.TensorInfo | undefined {
  if (!enabled || a.dtype !== 'float32' || b.dtype !== 'float32' || !single(a) || !single(b)) return undefined;
  const [ra, rb] = [a.shape.length, b.shape.length];
  const m = a.shape[transposeA ? ra - 1 : ra - 2];
  const k = a.shape[transposeA ? ra - 2 : ra - 1];
  const n = b.shape[transposeB ? rb - 2 : rb - 1];
  if (n % NR !== 0 || m * k * n < MIN_MULTIPLY_ADDS) return undefined;
  if (bias && (bias.dtype !== 'float32' || tf.util.sizeFromShape(bias.shape) !== n)) return undefined;
  const memory = memoryOf(backend);
  const gemm = memory && heapGemm(memory);
  if (!gemm) return undefined;
  const outer = (ra >= rb ? a : b).shape.slice(0, -2);
  const out = backend.makeOutput([...outer, m, n], 'float32');
  const scratch = backend.makeOutput([HeapGemm.scratchBytes(m, k) / 4], 'float32');
  // Addresses are read after each allocation: an allocation may grow the heap, which moves views.
  const address = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t).byteOffset;
  const right = (): HeapMatrix => ({ address: address(b), rowBytes: transposeB ? 4 : 4 * n, stepBytes: transposeB ? 4 * k : 4 });
  packedRight.with(backend, gemm, b, transposeB, right, k, n, (packed) => {
    const left: HeapMatrix = { address: address(a), rowBytes: transposeA ? 4 : 4 * k, stepBytes: transposeA ? 4 * m : 4 };
    gemm.multiply(left, m, k, packed, n, address(out), alignLine(address(scratch)));
  });
  backend.disposeData(scratch.dataId);
  if (bias || relu) applyBiasRelu(backend.typedArrayFromHeap(out) as Float32Array, n, bias && (backend.typedArrayFromHeap(bias) as Float32Array), relu);
  return out;
}

function applyBiasRelu(c: Float32Array, n: number, bias: Float32Array | undefined, relu: boolean): void {
  for (let i = 0; i < c.length; i += n) {
    for (let j = 0; j < n; j++) {
      const v = bias ? c[i + j] + bias[j] : c[i + j];
      c[i + j] = relu && v < 0 ? 0 : v;
    }
  }
}

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
