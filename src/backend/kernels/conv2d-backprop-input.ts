// dx of a regular conv: a 'valid' forward conv2d over dy (spread on the stride grid and framed) with
// the spatially flipped, in/out-swapped filter. Replaces wasm's own kernel, which is not
// XNNPACK-backed and was measured ~6x slower on 1x1 convs.
import * as tf from '@tensorflow/tfjs-core';
import { compositeKernel } from './composite.js';
import { backpropInputFrame, convInfo } from './geometry.js';

export function conv2dBackpropInput(dy: tf.Tensor4D, filter: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const pointwise = info.filterHeight === 1 && info.filterWidth === 1;
  const flipped = pointwise ? filter : tf.reverse(filter, [0, 1]);
  const swapped = tf.transpose(flipped, [0, 1, 3, 2]);
  return tf.conv2d(backpropInputFrame(dy, info), swapped as tf.Tensor4D, 1, 'valid', 'NHWC', [
    info.dilationHeight,
    info.dilationWidth,
  ]);
}

export const conv2dBackpropInputKernel = compositeKernel('Conv2DBackpropInput', ({ dy, filter }, attrs) => {
  if (attrs.dataFormat === 'NCHW') throw new Error('Conv2DBackpropInput on wasm: only NHWC is supported');
  const info = convInfo(attrs.inputShape as number[], filter.shape, attrs, false);
  return conv2dBackpropInput(dy as tf.Tensor4D, filter as tf.Tensor4D, info);
});
