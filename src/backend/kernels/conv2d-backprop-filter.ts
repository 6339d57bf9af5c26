// dW[a,b,ci,co] = sum over n,i,j of xpad[n, i*s + a*d, j*s + b*d, ci] * dy[n,i,j,co].
// Written as one forward conv2d with the roles swapped: Cin becomes the batch, N the channels, and
// dy the (large) filter, dilated by the forward stride. 1x1 stride-1 convs are a plain GEMM.
// Where torchport's SIMD GEMM runs, im2col(x)ᵀ · dy on it instead (simd-conv.ts).
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { compositeKernel } from './composite.js';
import { convInfo, readWindow } from './geometry.js';
import { simdConv2DBackpropFilter } from './simd-conv.js';

export function conv2dBackpropFilter(x: tf.Tensor4D, dy: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const { filterHeight: kh, filterWidth: kw, inChannels: cin, outChannels: cout } = info;
  const pointwise =
    kh === 1 && kw === 1 && info.strideHeight === 1 && info.strideWidth === 1 &&
    info.padInfo.top === 0 && info.padInfo.left === 0 && info.outHeight === info.inHeight && info.outWidth === info.inWidth;
  if (pointwise) {
    // Explicit transpose: wasm's matMul with transposeA is ~10x slower than transpose + matMul.
    const xt = tf.transpose(tf.reshape(x, [-1, cin]));
    return tf.reshape(tf.matMul(xt, tf.reshape(dy, [-1, cout])), [1, 1, cin, cout]);
  }
  const xs = tf.transpose(readWindow(x, info), [3, 1, 2, 0]);
  const dyFilter = tf.transpose(dy, [1, 2, 0, 3]);
  const taps = tf.conv2d(xs, dyFilter, [info.dilationHeight, info.dilationWidth], 'valid', 'NHWC', [
    info.strideHeight,
    info.strideWidth,
  ]);
  return tf.transpose(taps, [1, 2, 0, 3]);
}

const composite = compositeKernel('Conv2DBackpropFilter', ({ x, dy }, attrs) => {
  if (attrs.dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter on wasm: only NHWC is supported');
  const info = convInfo(x.shape, attrs.filterShape as number[], attrs, false);
  return conv2dBackpropFilter(x as tf.Tensor4D, dy as tf.Tensor4D, info);
});

/** im2col(x)ᵀ · dy on the SIMD GEMM where it takes the product, the composite otherwise. */
export const conv2dBackpropFilterKernel: tf.KernelConfig = {
  ...composite,
  kernelFunc: (args) => {
    const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const attrs = args.attrs ?? {};
    const simd = attrs.dataFormat === 'NCHW' ? undefined : simdConv2DBackpropFilter(args.backend as BackendWasm, x, dy, convInfo(x.shape, attrs.filterShape as number[], attrs, false));
    return simd ?? composite.kernelFunc(args);
  },
};
