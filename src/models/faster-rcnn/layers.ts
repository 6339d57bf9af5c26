// The few layers the detector's own parts use, with PyTorch's padding (explicit and symmetric:
// TF's 'same' pads asymmetrically for stride 2) and parameter names `<prefix>.weight/.bias`.
// Bias and ReLU are fused into the conv / matMul (fewer kernels; gradients still flow).
import * as tf from '@tensorflow/tfjs-core';
import { simdGemmActive } from '../../backend/kernels/simd-product.js';
import type { FoldCache } from '../layers/fold-cache.js';
import { weight, type WeightMap } from '../layers/weights.js';

/** Conv2d with bias on NHWC input; padding `floor(kernel/2)` on every side, as PyTorch's `padding=k//2`. */
export function conv(weights: WeightMap, prefix: string, x: tf.Tensor4D, stride = 1, activation: 'linear' | 'relu' = 'linear'): tf.Tensor4D {
  const filter = weight<tf.Rank.R4>(weights, `${prefix}.weight`);
  const pad = Math.floor(filter.shape[0] / 2);
  return tf.fused.conv2d({ x, filter, strides: stride, pad: pad === 0 ? 'valid' : pad, bias: weight(weights, `${prefix}.bias`), activation });
}

export function dense(weights: WeightMap, prefix: string, x: tf.Tensor2D, activation: 'linear' | 'relu' = 'linear'): tf.Tensor2D {
  return tf.fused.matMul({ a: x, b: weight<tf.Rank.R2>(weights, `${prefix}.weight`), bias: weight(weights, `${prefix}.bias`), activation }) as tf.Tensor2D;
}

/**
 * Output columns per block of `blockedDense`. XNNPACK's GEMM streams the whole packed kernel for
 * every few rows of x; in blocks of 128 columns it stays in cache (measured on wasm, 1 thread:
 * box head fc6, 150 x 12544 x 1024, 164 ms instead of 266; fc7, 1024 x 1024, 14 instead of 18).
 * torchport's SIMD GEMM blocks for the cache itself and would re-pack x for every block, so
 * where it runs the kernel stays whole.
 */
const BLOCK_COLUMNS = 128;

/**
 * `dense` computed as column blocks of the kernel, concatenated: the same dot products, bit for
 * bit, only faster for wide kernels. The blocks are cut once and kept in `cache`; while gradients
 * are recorded it is one matMul (cutting would copy the weights on every step). `reorderRows`, if
 * given, rearranges the kernel's rows before cutting (for an x whose features come in another
 * order; the sums then run in another order too); it is applied only with the cache, so callers
 * must not pass it while recording.
 */
export function blockedDense(
  weights: WeightMap,
  prefix: string,
  x: tf.Tensor2D,
  cache: FoldCache,
  activation: 'linear' | 'relu' = 'linear',
  reorderRows?: (kernel: tf.Tensor2D) => tf.Tensor2D,
): tf.Tensor2D {
  const kernel = weight<tf.Rank.R2>(weights, `${prefix}.weight`);
  const bias = weight<tf.Rank.R1>(weights, `${prefix}.bias`);
  const n = kernel.shape[1];
  const recording = tf.engine().state.gradientDepth > 0;
  if (recording && reorderRows) throw new Error(`blockedDense(${prefix}): reorderRows is for inference only`);
  const width = simdGemmActive() ? n : BLOCK_COLUMNS;
  if (!reorderRows && (n <= width || recording)) return dense(weights, prefix, x, activation);
  const starts = Array.from({ length: Math.ceil(n / width) }, (_, i) => i * width);
  const blocks = cache.derived(prefix, [kernel, bias], width, () => {
    const rows = reorderRows ? reorderRows(kernel) : kernel;
    return starts.flatMap((s) => {
      const size = Math.min(width, n - s);
      return [tf.slice(rows, [0, s], [-1, size]), tf.slice(bias, [s], [size])];
    });
  });
  const outs = starts.map((_, i) => tf.fused.matMul({ a: x, b: blocks[2 * i] as tf.Tensor2D, bias: blocks[2 * i + 1], activation }));
  return outs.length === 1 ? outs[0] as tf.Tensor2D : tf.concat(outs, 1) as tf.Tensor2D;
}
