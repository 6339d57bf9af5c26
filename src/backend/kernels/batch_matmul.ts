// BatchMatMul on wasm, arranged so XNNPACK packs the smaller operand.
// Stock wasm has two slow spots: (1) transposeA/transposeB leave XNNPACK for a naive loop (15-50x
// slower; tfjs's own matMul gradient uses exactly those flags); (2) XNNPACK treats the right
// operand as fully-connected weights and packs it (several times the cost of a copy) whenever it
// has not seen that tensor before, which in training is every call. So the product is computed
// either directly, or as out = (op(b)^T @ op(a)^T)^T, whichever moves fewer elements; transposes
// are always explicit. A right operand met a second time (inference weights) is used directly, so
// XNNPACK packs it once and reuses it.
import * as tf from '@tensorflow/tfjs-core';
import { wrapInputs } from './composite.js';

/** Packing one element costs about this many element copies (measured on wasm, bench/backend-kernels.ts). */
const PACK_COST = 4;

function swapLastTwo(t: tf.Tensor): tf.Tensor {
  const perm = [...Array(t.rank).keys()];
  [perm[t.rank - 2], perm[t.rank - 1]] = [perm[t.rank - 1], perm[t.rank - 2]];
  return tf.transpose(t, perm);
}

/** Right operands seen before: XNNPACK keeps their packed form, so reusing them is free. */
const seenRight = new WeakSet<object>();

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
      if (!transposeA && !transposeB && (cached || direct <= swapped)) return stock.kernelFunc(args);
      const backend = args.backend as tf.KernelBackend;
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
