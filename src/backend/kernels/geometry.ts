// Shared NHWC geometry for the composite convolution gradients.
import * as tf from '@tensorflow/tfjs-core';

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

/** Reads the attrs every conv kernel carries and computes tfjs's own conv geometry for them. */
export function convInfo(
  xShape: number[],
  filterShape: number[],
  attrs: tf.NamedAttrMap,
  depthwise: boolean,
): tf.backend_util.Conv2DInfo {
  const strides = attrs.strides as [number, number] | number;
  const dilations = (attrs.dilations as [number, number] | number | undefined) ?? 1;
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    dilations,
    attrs.pad as Pad,
    attrs.dimRoundingMode as Rounding,
    depthwise,
    'channelsLast',
  );
}

/**
 * A height x width window of x placed `top`, `left` into a zero plane: y[:, i, j] = x[:, i - top, j - left],
 * zero outside x. Negative offsets or a short window crop x instead of padding it.
 */
export function spatialWindow(x: tf.Tensor4D, top: number, left: number, height: number, width: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const r0 = Math.max(0, -top);
  const c0 = Math.max(0, -left);
  const r1 = Math.min(h, height - top);
  const c1 = Math.min(w, width - left);
  if (r1 <= r0 || c1 <= c0) return tf.zeros([n, height, width, c]);
  const cropped = r0 > 0 || c0 > 0 || r1 < h || c1 < w ? tf.slice(x, [0, r0, c0, 0], [n, r1 - r0, c1 - c0, c]) : x;
  const pt = Math.max(0, top);
  const pl = Math.max(0, left);
  const pb = height - pt - (r1 - r0);
  const pr = width - pl - (c1 - c0);
  return pt || pb || pl || pr ? tf.pad(cropped, [[0, 0], [pt, pb], [pl, pr], [0, 0]]) : cropped;
}

/** Spreads dy over a stride-s grid: e[:, i*sh, j*sw] = dy[:, i, j], zeros between (and after the last row/column). */
export function zeroInsert(dy: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return dy;
  const [n, oh, ow, c] = dy.shape;
  const spread = tf.pad(tf.reshape(dy, [n, oh, 1, ow, 1, c]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
  return tf.reshape(spread, [n, oh * sh, ow * sw, c]);
}

/**
 * The input window a convolution actually reads, for gradients that correlate x with dy:
 * rows top-padded by padInfo.top and cut to exactly (outH-1)*stride + (k-1)*dilation + 1.
 */
export function readWindow(x: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const height = (info.outHeight - 1) * info.strideHeight + info.effectiveFilterHeight;
  const width = (info.outWidth - 1) * info.strideWidth + info.effectiveFilterWidth;
  return spatialWindow(x, info.padInfo.top, info.padInfo.left, height, width);
}

/**
 * dy spread over the stride grid and framed so that a 'valid' correlation with the flipped filter
 * (dilated like the forward) yields exactly the input-sized gradient.
 */
export function backpropInputFrame(dy: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const spread = zeroInsert(dy, info.strideHeight, info.strideWidth);
  const extraH = info.effectiveFilterHeight - 1;
  const extraW = info.effectiveFilterWidth - 1;
  return spatialWindow(
    spread,
    extraH - info.padInfo.top,
    extraW - info.padInfo.left,
    info.inHeight + extraH,
    info.inWidth + extraW,
  );
}
