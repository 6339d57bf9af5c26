// One product on the wasm heap through torchport's relaxed-SIMD GEMM (src/backend/simd), for the
// kernels that are products underneath (BatchMatMul, _FusedMatMul, convolutions): about 1.8x
// the speed of XNNPACK's GEMM on the Faster R-CNN box head (fc6, 150 x 12544 x 1024: ~100 ms
// instead of 164). Transposed operands cost nothing: both are packed from either layout.
// It declines (returns undefined, and the caller runs the stock kernel) for other dtypes, batched
// products, column counts that are not a multiple of the panel width, products too small to repay
// packing, and runtimes without relaxed SIMD.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { alignLine, gemmSupported, heapGemm, HeapGemm, type HeapMatrix } from '../simd/heap-gemm.js';
import { NR } from '../simd/gemm-kernel.js';
import { PackedRightOperands } from './packed-right.js';
import { backendMemory } from './wasm-heap.js';

/** Smaller products stay with XNNPACK: packing and call overhead would eat the gain. */
const MIN_MULTIPLY_ADDS = 1 << 22;
/**
 * Nor do shallow ones: with few depth steps per output, moving C and packing A dominate, and
 * XNNPACK was faster (1x1 convs at 8 x 112² x 16 → 64: 44 vs 31 ms; 56² x 24 → 72: 12 vs 8 ms).
 */
const MIN_DEPTH = 32;

let enabled = true;
const packedRight = new PackedRightOperands();

/** Turns torchport's SIMD GEMM and depthwise kernels off or on (for A/B runs against the stock kernels). */
export function setSimdGemm(on: boolean): void {
  enabled = on;
}

/** Whether torchport's SIMD kernels are switched on (they are unless `setSimdGemm(false)`). */
export const simdEnabled = (): boolean => enabled;

/** Whether large products on the active backend run on the SIMD GEMM (wasm with relaxed SIMD). */
export function simdGemmActive(): boolean {
  return enabled && tf.getBackend() === 'wasm' && gemmSupported();
}

export interface Product {
  a: tf.TensorInfo;
  b: tf.TensorInfo;
  transposeA: boolean;
  transposeB: boolean;
  bias?: tf.TensorInfo;
  relu: boolean;
  /** The result's shape, if not `[...batch, m, n]` (a 1x1 convolution's NHWC output). */
  outShape?: number[];
}

const single = (t: tf.TensorInfo) => tf.util.sizeFromShape(t.shape.slice(0, -2)) === 1;

/** What torchport's SIMD kernels do on this wasm backend, in words (for the backend's description). */
export function simdKernelsStatus(backend: BackendWasm): string {
  if (!gemmSupported()) return 'no relaxed SIMD in this runtime: stock matMul and convolutions';
  if (!backendGemm(backend)) return 'SIMD kernels unavailable: the threaded build shares its memory';
  return 'relaxed-SIMD GEMM and depthwise';
}

/** Whether the SIMD GEMM takes an m x k x n product (the caller may then prepare its operands). */
export function gemmTakes(m: number, k: number, n: number): boolean {
  return enabled && n % NR === 0 && k >= MIN_DEPTH && m * k * n >= MIN_MULTIPLY_ADDS && gemmSupported();
}

export function simdProduct(backend: BackendWasm, { a, b, transposeA, transposeB, bias, relu, outShape }: Product): tf.TensorInfo | undefined {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || !single(a) || !single(b)) return undefined;
  const [ra, rb] = [a.shape.length, b.shape.length];
  const m = a.shape[transposeA ? ra - 1 : ra - 2];
  const k = a.shape[transposeA ? ra - 2 : ra - 1];
  const n = b.shape[transposeB ? rb - 2 : rb - 1];
  if (!gemmTakes(m, k, n)) return undefined;
  if (bias && (bias.dtype !== 'float32' || tf.util.sizeFromShape(bias.shape) !== n)) return undefined;
  const gemm = backendGemm(backend);
  if (!gemm) return undefined;
  const out = backend.makeOutput(outShape ?? [...(ra >= rb ? a : b).shape.slice(0, -2), m, n], 'float32');
  const left = (): HeapMatrix => ({ address: heapAddress(backend, a), rowBytes: transposeA ? 4 : 4 * k, stepBytes: transposeA ? 4 * m : 4 });
  productByRows(backend, gemm, { b, transposeB, k, n, bias, relu }, out, m, m, () => left());
  return out;
}

/** The SIMD GEMM over the backend's heap, or undefined where it cannot run. */
export function backendGemm(backend: BackendWasm): HeapGemm | undefined {
  const memory = backendMemory(backend);
  return (memory && heapGemm(memory)) || undefined;
}

/** Byte address of a tensor's data; read it after every allocation (a heap growth moves it). */
export const heapAddress = (backend: BackendWasm, t: tf.TensorInfo) => backend.typedArrayFromHeap(t).byteOffset;

/** The right operand of a product and what is applied to its result. */
export interface RightOperand {
  b: tf.TensorInfo;
  transposeB: boolean;
  k: number;
  n: number;
  bias?: tf.TensorInfo;
  relu: boolean;
}

/**
 * out (m x n, at `out`) = left · b, the left operand `rowsPerBlock` rows at a time: `block(r0,
 * rows)` returns those rows (it may write them into a buffer of its own first; it must not
 * allocate tensors). b is packed once for all blocks.
 */
export function productByRows(
  backend: BackendWasm,
  gemm: HeapGemm,
  { b, transposeB, k, n, bias, relu }: RightOperand,
  out: tf.TensorInfo,
  m: number,
  rowsPerBlock: number,
  block: (r0: number, rows: number) => HeapMatrix,
): void {
  const scratch = backend.makeOutput([HeapGemm.scratchBytes(Math.min(m, rowsPerBlock), k) / 4], 'float32');
  // Addresses are read after each allocation: an allocation may grow the heap, which moves views.
  const right = (): HeapMatrix => ({ address: heapAddress(backend, b), rowBytes: transposeB ? 4 : 4 * n, stepBytes: transposeB ? 4 * k : 4 });
  packedRight.with(backend, gemm, b, transposeB, right, k, n, (packed) => {
    for (let r0 = 0; r0 < m; r0 += rowsPerBlock) {
      const rows = Math.min(rowsPerBlock, m - r0);
      const left = block(r0, rows);
      const biasAt = bias && heapAddress(backend, bias);
      gemm.multiply(left, rows, k, packed, n, heapAddress(backend, out) + 4 * r0 * n, alignLine(heapAddress(backend, scratch)), biasAt, relu);
    }
  });
  backend.disposeData(scratch.dataId);
}
