// Slice and SplitV on wasm, copied on the wasm heap. The stock Slice first reads the WHOLE input
// out of the heap into a fresh JS array (readSync) and then copies the slice from it, so cutting a
// tensor into k pieces copies it k times: 8 contiguous slices of a 12544x1024 kernel took ~400 ms.
// Here each contiguous run of the slice is one memmove (copyWithin) on the heap; stock SplitV calls
// that same stock slice once per piece, so it is replaced too. float32 and int32 only (4-byte
// words, copied bit for bit); other dtypes go to the stock kernels.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { withFastPath } from './composite.js';

/** Copies the block [begin, begin + size) of a row-major `shape` from word offset `src` to `dst`. */
function copyBlock(heap: Int32Array, dst: number, src: number, shape: number[], begin: number[], size: number[]): void {
  const strides = tf.util.computeStrides(shape);
  // the innermost run: from the last axis that is cut, everything after it is whole
  let axis = shape.length - 1;
  while (axis > 0 && size[axis] === shape[axis]) axis--;
  const stride = (a: number) => (a + 1 < shape.length ? strides[a] : 1); // computeStrides omits the last
  const run = size[axis] * stride(axis);
  const index = new Array<number>(axis).fill(0); // position over the outer axes 0..axis-1
  let from = src + begin.reduce((sum, b, a) => sum + b * stride(a), 0);
  for (;;) {
    heap.copyWithin(dst, from, from + run);
    dst += run;
    let a = axis - 1;
    for (; a >= 0; a--) {
      index[a]++;
      from += stride(a);
      if (index[a] < size[a]) break;
      from -= index[a] * stride(a);
      index[a] = 0;
    }
    if (a < 0) return;
  }
}

function sliceOnHeap(wasm: BackendWasm, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  // Allocate first: a heap growth would detach the views taken below.
  const out = wasm.makeOutput(size, x.dtype);
  if (tf.util.sizeFromShape(size) === 0) return out;
  const outView = wasm.typedArrayFromHeap(out);
  const heap = new Int32Array(outView.buffer);
  copyBlock(heap, outView.byteOffset / 4, wasm.typedArrayFromHeap(x).byteOffset / 4, x.shape, begin, size);
  return out;
}

const wordSized = (x: tf.TensorInfo) => x.dtype === 'float32' || x.dtype === 'int32';

export const heapSlice = withFastPath((args) => {
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (!wordSized(x) || x.shape.length === 0) return undefined;
  const { begin, size } = args.attrs as { begin: number | number[]; size: number | number[] };
  const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
  tf.slice_util.assertParamsValid(x as tf.Tensor, b, s);
  return sliceOnHeap(args.backend as BackendWasm, x, b, s);
});

export const heapSplitV = withFastPath((args) => {
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (!wordSized(x)) return undefined;
  const { numOrSizeSplits, axis } = args.attrs as { numOrSizeSplits: number | number[]; axis: number };
  const a = tf.util.parseAxisParam(axis, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, a);
  const begin = x.shape.map(() => 0);
  return sizes.map((n) => {
    const size = x.shape.slice();
    size[a] = n;
    const piece = sliceOnHeap(args.backend as BackendWasm, x, begin, size);
    begin[a] += n;
    return piece;
  });
});
