// dx of a depthwise conv: a 'valid' depthwise conv over dy (spread on the stride grid and framed)
// with the spatially flipped filter; with a channel multiplier M the M outputs of each input
// channel are summed afterwards.
import * as tf from '@tensorflow/tfjs-core';
import { compositeKernel } from './composite.js';
import { backpropInputFrame, convInfo } from './geometry.js';

export function depthwiseBackpropInput(dy: tf.Tensor4D, filter: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, filterHeight: kh, filterWidth: kw } = info;
  const m = info.outChannels / c;
  const flipped = tf.reshape(tf.reverse(filter, [0, 1]), [kh, kw, c * m, 1]);
  const dx = tf.depthwiseConv2d(backpropInputFrame(dy, info), flipped as tf.Tensor4D, 1, 'valid', 'NHWC', [
    info.dilationHeight,
    info.dilationWidth,
  ]);
  return m === 1 ? dx : tf.sum(tf.reshape(dx, [n, h, w, c, m]), 4);
}

export const depthwiseBackpropInputKernel = compositeKernel('DepthwiseConv2dNativeBackpropInput', ({ dy, filter }, attrs) => {
  const info = convInfo(attrs.inputShape as number[], filter.shape, attrs, true);
  return depthwiseBackpropInput(dy as tf.Tensor4D, filter as tf.Tensor4D, info);
});
