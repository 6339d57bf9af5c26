// out[s, ...] = sum of x[i, ...] over all i with segmentIds[i] == s (ids outside [0, numSegments)
// are dropped, as the cpu backend does). This is the gradient of gather, so it must handle many
// indices: one pass of row-wise scatter-adds straight on the wasm heap, O(size of x) work whatever
// numSegments is. A one-hot matMul costs numSegments times more (see bench/backend-kernels.ts).
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

function scatterAddRows(
  out: Float32Array | Int32Array,
  x: Float32Array | Int32Array,
  ids: Int32Array,
  numSegments: number,
  rowSize: number,
): void {
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue;
    const dst = s * rowSize;
    const src = i * rowSize;
    for (let k = 0; k < rowSize; k++) out[dst + k] += x[src + k];
  }
}

export const unsortedSegmentSumKernel: tf.KernelConfig = {
  kernelName: 'UnsortedSegmentSum',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const wasm = backend as BackendWasm;
    const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
    const numSegments = attrs!.numSegments as number;
    const idRank = segmentIds.shape.length;
    if (x.dtype !== 'float32' && x.dtype !== 'int32') throw new Error(`UnsortedSegmentSum on wasm: dtype ${x.dtype} is not supported`);
    if (segmentIds.shape.some((d, i) => d !== x.shape[i])) {
      throw new Error(`UnsortedSegmentSum: segmentIds shape [${segmentIds.shape}] is not a prefix of x shape [${x.shape}]`);
    }
    const rowShape = x.shape.slice(idRank);
    const rowSize = tf.util.sizeFromShape(rowShape);
    // Allocate first: a later heap growth would detach the views taken below.
    const out = wasm.makeOutput([numSegments, ...rowShape], x.dtype);
    const outValues = wasm.typedArrayFromHeap(out) as Float32Array | Int32Array;
    outValues.fill(0);
    const ids = wasm.typedArrayFromHeap(segmentIds) as Int32Array;
    scatterAddRows(outValues, wasm.typedArrayFromHeap(x) as Float32Array | Int32Array, ids, numSegments, rowSize);
    return out;
  },
};
