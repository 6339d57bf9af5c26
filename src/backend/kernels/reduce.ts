// Sum and Mean over axes that are not the innermost ones (BatchNorm statistics and their gradients
// over N,H,W; global average pooling over H,W). Stock wasm transposes the reduced axes to the end
// first, a full copy of the input; here x is viewed as [outer, R, 1, inner] and reduced by one
// R x 1 average pooling, which XNNPACK runs in a single pass (x R for Sum). Measured 3-30x faster
// (bench/backend-kernels.ts). A GEMM with a row of ones is no good: wasm's matMul repacks its
// right operand on every call. Other cases go to the stock kernel.
import * as tf from '@tensorflow/tfjs-core';
import { handOver, withFastPath, wrapInputs } from './composite.js';

interface Split { outer: number; reduced: number; inner: number }

/** [outer, R, inner] when the reduced axes are one contiguous block followed by kept axes. */
function contiguousSplit(shape: number[], axes: number[]): Split | undefined {
  const sorted = [...new Set(axes)].sort((a, b) => a - b);
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  if (sorted.length === 0 || last - first + 1 !== sorted.length || last === shape.length - 1) return undefined;
  const size = (from: number, to: number) => shape.slice(from, to).reduce((a, b) => a * b, 1);
  return { outer: size(0, first), reduced: size(first, last + 1), inner: size(last + 1, shape.length) };
}

function poolReduction(kernelName: 'Sum' | 'Mean') {
  return withFastPath((args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as { axis: number | number[] | null; keepDims: boolean };
    // null: all axes; negatives resolved
    const axes = axis == null ? [...x.shape.keys()] : tf.util.parseAxisParam(axis, x.shape);
    const split = x.dtype === 'float32' ? contiguousSplit(x.shape, axes) : undefined;
    if (!split || split.reduced < 2) return undefined;
    const { outer, reduced, inner } = split;
    const outShape = tf.backend_util.computeOutAndReduceShapes(x.shape, axes)[0];
    const finalShape = keepDims ? tf.backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
    const backend = args.backend as tf.KernelBackend;
    return handOver(backend, tf.tidy(() => {
      const input = wrapInputs(backend, args.inputs).x;
      const mean = tf.avgPool(tf.reshape<tf.Rank.R4>(input, [outer, reduced, 1, inner]), [reduced, 1], 1, 'valid');
      return tf.reshape(kernelName === 'Mean' ? mean : tf.mul(mean, reduced), finalShape);
    }));
  });
}

export const poolSum = poolReduction('Sum');
export const poolMean = poolReduction('Mean');
