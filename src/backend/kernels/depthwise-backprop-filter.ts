// dW[a,b,c,m] = sum over n,i,j of xpad[n, i*s + a*d, j*s + b*d, c] * dy[n,i,j,c*M+m].
// One depthwise conv: batch folded into channels (N*C), dy as the (large) depthwise filter
// dilated by the stride, then summed over the batch. The taps come out exactly k x k because the
// conv's own stride is the forward dilation (tfjs allows stride > 1 or dilation > 1, never both).
import * as tf from '@tensorflow/tfjs-core';
import { compositeKernel } from './composite.js';
import { convInfo, readWindow } from './geometry.js';

export function depthwiseBackpropFilter(x: tf.Tensor4D, dy: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const { batchSize: n, inChannels: c, outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw } = info;
  const m = info.outChannels / c;
  const win = readWindow(x, info);
  const xs = tf.reshape<tf.Rank.R4>(tf.transpose(win, [1, 2, 0, 3]), [1, win.shape[1], win.shape[2], n * c]);
  const dyFilter = tf.reshape(tf.transpose(tf.reshape(dy, [n, oh, ow, c, m]), [1, 2, 0, 3, 4]), [oh, ow, n * c, m]);
  const taps = tf.depthwiseConv2d(xs, dyFilter as tf.Tensor4D, [info.dilationHeight, info.dilationWidth], 'valid', 'NHWC', [
    info.strideHeight,
    info.strideWidth,
  ]);
  return n === 1 ? tf.reshape(taps, [kh, kw, c, m]) : tf.sum(tf.reshape(taps, [kh, kw, n, c, m]), 2);
}

export const depthwiseBackpropFilterKernel = compositeKernel('DepthwiseConv2dNativeBackpropFilter', ({ x, dy }, attrs) => {
  const info = convInfo(x.shape, attrs.filterShape as number[], attrs, true);
  return depthwiseBackpropFilter(x as tf.Tensor4D, dy as tf.Tensor4D, info);
});
