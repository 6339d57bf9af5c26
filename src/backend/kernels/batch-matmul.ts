// BatchMatMul on wasm, arranged so XNNPACK packs the smaller operand.
// Stock wasm has three slow spots: (1) transposeA/transposeB leave XNNPACK for a naive loop (15-50x
// slower; tfjs's own matMul gradient uses exactly those flags); (2) XNNPACK treats the right
// operand as fully-connected weights and packs it (several times the cost of a copy) whenever it
// has not seen that tensor before, which in training is every call. So the product is computed
// either directly, or as out = (op(b)^T @ op(a)^T)^T, whichever moves fewer elements; transposes
// are always explicit. A right operand met a second time (inference weights) is used directly, so
// XNNPACK packs it once and reuses it.
// (3) XNNPACK streams the whole packed right operand for every few rows of the left one: once that
// is far larger than the cache (the Faster R-CNN box head's fc6 in training, 12544 x 1024, 51 MB,
// packed anew each step), the product runs at half speed. Such products are split along the
// shared dimension into a sum of products whose right operands fit (fc6 at 1024 RoIs: median
// 1.9 s instead of 2.6 s over 10 interleaved runs against the stock kernel).
import * as tf from '@tensorflow/tfjs-core';
import { handOver, wrapInputs } from './composite.js';

/** Packing one element costs about this many element copies (measured on wasm, bench/backend-kernels.ts). */
const PACK_COST = 4;

export function swapLastTwo(t: tf.Tensor): tf.Tensor {
  const perm = [...Array(t.rank).keys()];
  [perm[t.rank - 2], perm[t.rank - 1]] = [perm[t.rank - 1], perm[t.rank - 2]];
  return tf.transpose(t, perm);
}

/** Right operands seen before: XNNPACK keeps their packed form, so reusing them is free. */
const seenRight = new WeakSet<object>();

/** Elements of a right operand (or of one depth block of it) that XNNPACK still runs at full speed. */
const CACHED_RIGHT = 1 << 21;
/** Fewer left rows than this do not repay cutting the left operand into depth blocks. */
const MIN_ROWS = 512;

/** How many depth blocks to split an [m, k] x [k, n] product into: 1 (none), or a divisor of k. */
function depthBlocks(m: number, k: number, n: number): number {
  if (m < MIN_ROWS || k * n <= CACHED_RIGHT) return 1;
  for (let blocks = Math.ceil((k * n) / CACHED_RIGHT); blocks * 64 <= k; blocks++) if (k % blocks === 0) return blocks;
  return 1;
}

/** a @ b as the sum over depth blocks of a[:, block] @ b[block, :]; a: [m, k], b: [k, n]. */
function depthBlockedProduct(a: tf.Tensor2D, b: tf.Tensor2D, blocks: number, stock: tf.KernelConfig, backend: tf.KernelBackend, attrs: tf.NamedAttrMap): tf.Tensor {
  const [m, k] = a.shape;
  const depth = k / blocks;
  // a's column blocks, made contiguous by one transpose; b's row blocks are contiguous already
  const aBlocks = tf.split(tf.transpose(tf.reshape(a, [m, blocks, depth]), [1, 0, 2]), blocks, 0);
  const bBlocks = tf.split(b, blocks, 0);
  const parts = aBlocks.map((ab, i) => tf.engine().makeTensorFromTensorInfo(stock.kernelFunc({
    inputs: { a: tf.reshape(ab, [1, m, depth]), b: tf.reshape(bBlocks[i], [1, depth, b.shape[1]]) }, backend, attrs,
  }) as tf.TensorInfo));
  return tf.addN(parts);
}

export function explicitTransposeMatMul(stock: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: 'BatchMatMul',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
      const { a: aInfo, b: bInfo } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const ra = aInfo.shape.length;
      const rb = bInfo.shape.length;
      const m = aInfo.shape[transposeA ? ra - 1 : ra - 2];
      const k = aInfo.shape[transposeA ? ra - 2 : ra - 1];
      const n = bInfo.shape[transposeB ? rb - 2 : rb - 1];
      const cached = !transposeB && seenRight.has(bInfo.dataId);
      if (!transposeB) seenRight.add(bInfo.dataId); // met twice: pack it once, reuse it after
      const direct = (transposeA ? m * k : 0) + (transposeB ? k * n : 0) + (cached ? 0 : PACK_COST * k * n);
      const swapped = (transposeB ? 0 : k * n) + (transposeA ? 0 : m * k) + PACK_COST * k * m + m * n;
      const backend = args.backend as tf.KernelBackend;
      if (!transposeA && !transposeB && (cached || direct <= swapped)) {
        const batch = tf.util.sizeFromShape(aInfo.shape.slice(0, -2)) * tf.util.sizeFromShape(bInfo.shape.slice(0, -2));
        const blocks = cached || batch !== 1 ? 1 : depthBlocks(m, k, n);
        if (blocks === 1) return stock.kernelFunc(args);
        return handOver(backend, tf.tidy(() => {
          const { a, b } = wrapInputs(backend, args.inputs);
          const product = depthBlockedProduct(tf.reshape(a, [m, k]), tf.reshape(b, [k, n]), blocks, stock, backend, args.attrs ?? {});
          return tf.reshape(product, [...aInfo.shape.slice(0, -1), n]);
        }));
      }
      const { a, b } = wrapInputs(backend, args.inputs);
      const temps: tf.Tensor[] = [a, b];
      const keep = <T extends tf.Tensor>(t: T): T => (temps.push(t), t);
      const plain = { transposeA: false, transposeB: false };
      let out: tf.TensorInfo;
      if (direct <= swapped) {
        const left = transposeA ? keep(swapLastTwo(a)) : a;
        const right = transposeB ? keep(swapLastTwo(b)) : b;
        out = stock.kernelFunc({ inputs: { a: left, b: right }, backend, attrs: { ...args.attrs, ...plain } }) as tf.TensorInfo;
      } else {
        const left = transposeB ? b : keep(swapLastTwo(b)); // op(b)^T
        const right = transposeA ? a : keep(swapLastTwo(a)); // op(a)^T
        const outT = stock.kernelFunc({ inputs: { a: left, b: right }, backend, attrs: { ...args.attrs, ...plain } }) as tf.TensorInfo;
        const outTensor = keep(tf.engine().makeTensorFromTensorInfo(outT));
        const result = swapLastTwo(outTensor);
        backend.incRef(result.dataId);
        out = { dataId: result.dataId, shape: result.shape, dtype: result.dtype };
        temps.push(result);
      }
      tf.dispose(temps);
      return out;
    },
  };
}
