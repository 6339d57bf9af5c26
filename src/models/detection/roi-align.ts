// RoIAlign and torchvision's MultiScaleRoIAlign, built from differentiable primitives.
//
// torchvision's roi_align averages, per output bin, bilinear samples on a regular grid. Both the
// sample positions and the bilinear weights separate into a y part and an x part (so does the
// "outside the map" test), so for one RoI:
//     pooled[ph, pw, c] = sum_h sum_w Wy[ph, h] * Wx[pw, w] * feature[h, w, c]
// with Wy = (1/gridH) * sum over the bin's sample rows of their bilinear row weights (and Wx the
// same for columns). The weights are computed here in float32 exactly as the C++ kernel computes
// sample points; the contraction is two matMuls, so gradients flow into the features on every
// backend (no CropAndResize/GatherNd gradient needed).
import * as tf from '@tensorflow/tfjs-core';
import { boxArea } from './boxes.js';

const f = Math.fround;

export interface RoIAlignOptions {
  outputSize: number;
  /** Samples per bin side; <= 0: adaptive, ceil(roi size / outputSize). */
  samplingRatio: number;
  aligned: boolean;
}

/**
 * The 1-D interpolation matrix `[numRois * outputSize, size]` along one axis: `starts`/`ends` are
 * each RoI's extent on this axis in input-image pixels, `scale` the feature map's spatial scale.
 */
export function roiAlignAxisWeights(
  starts: ArrayLike<number>,
  ends: ArrayLike<number>,
  size: number,
  scale: number,
  opts: RoIAlignOptions,
): Float32Array {
  const p = opts.outputSize;
  const offset = opts.aligned ? 0.5 : 0;
  const out = new Float32Array(starts.length * p * size);
  for (let r = 0; r < starts.length; r++) {
    const start = f(f(starts[r] * scale) - offset);
    let extent = f(f(f(ends[r] * scale) - offset) - start);
    if (!opts.aligned) extent = Math.max(extent, 1);
    const bin = f(extent / p);
    const grid = opts.samplingRatio > 0 ? opts.samplingRatio : Math.ceil(f(extent / p));
    if (grid === 0) continue;
    for (let b = 0; b < p; b++) {
      const row = (r * p + b) * size;
      for (let i = 0; i < grid; i++) {
        let v = f(f(start + f(b * bin)) + f(f(f(i + 0.5) * bin) / grid));
        if (v < -1 || v > size) continue;
        if (v <= 0) v = 0;
        let low = Math.floor(v);
        let high = low + 1;
        if (low >= size - 1) {
          low = high = size - 1;
          v = low;
        }
        const l = f(v - low);
        out[row + low] += f(1 - l) / grid;
        out[row + high] += l / grid;
      }
    }
  }
  return out;
}

/**
 * roi_align on one image's feature map `[1, H, W, C]` (NHWC) for boxes given as flat rows in
 * input-image pixels. Returns `[numRois, outputSize, outputSize, C]`.
 */
export function roiAlign(feature: tf.Tensor4D, boxes: Float32Array, scale: number, opts: RoIAlignOptions): tf.Tensor4D {
  const [, h, w, c] = feature.shape;
  const n = boxes.length / 4;
  const p = opts.outputSize;
  const pick = (k: number) => Float32Array.from({ length: n }, (_, r) => boxes[4 * r + k]);
  const wy = roiAlignAxisWeights(pick(1), pick(3), h, scale, opts);
  const wx = roiAlignAxisWeights(pick(0), pick(2), w, scale, opts);
  return tf.tidy(() => {
    // rows: [n*P, H] x [H, W*C] → [n, P(ph), W, C]
    const rows = tf.reshape(tf.matMul(tf.tensor2d(wy, [n * p, h]), tf.reshape(feature, [h, w * c])), [n, p, w, c]);
    // columns: [n, P(pw), W] x [n, W, P(ph)*C] → [n, pw, ph, C] → [n, ph, pw, C]
    const cols = tf.matMul(tf.tensor3d(wx, [n, p, w]), tf.reshape(tf.transpose(rows, [0, 2, 1, 3]), [n, w, p * c]));
    return tf.transpose(tf.reshape(cols, [n, p, p, c]), [0, 2, 1, 3]);
  });
}

/** torchvision's `_infer_scale`: 2^round(log2(feature height / largest image height)). */
export function inferScale(featureHeight: number, imageHeight: number): number {
  return 2 ** Math.round(Math.log2(featureHeight / imageHeight));
}

/**
 * torchvision's LevelMapper: level = clamp(floor(k0 + log2(sqrt(area) / s0) + 1e-6), kMin, kMax)
 * - kMin, as an index into the pooled levels.
 */
export function assignLevels(
  boxes: Float32Array,
  kMin: number,
  kMax: number,
  canonicalScale: number,
  canonicalLevel: number,
): Int32Array {
  const area = boxArea(boxes);
  return Int32Array.from(area, (a) => {
    const k = Math.floor(f(f(canonicalLevel + f(Math.log2(f(f(Math.sqrt(a)) / canonicalScale)))) + f(1e-6)));
    return Math.min(Math.max(k, kMin), kMax) - kMin;
  });
}

export interface MultiScaleRoIAlignOptions extends RoIAlignOptions {
  canonicalScale: number;
  canonicalLevel: number;
}

/**
 * MultiScaleRoIAlign: `features` are the pooled levels (finest first, NHWC, batch of images);
 * `boxesPerImage[b]` the RoIs of image b; `imageSizes` the resized (unpadded) image sizes.
 * Returns `[totalRois, P, P, C]`, RoIs in image order then box order.
 */
export function multiScaleRoIAlign(
  features: tf.Tensor4D[],
  boxesPerImage: Float32Array[],
  imageSizes: Array<[number, number]>,
  opts: MultiScaleRoIAlignOptions,
): tf.Tensor4D {
  const maxHeight = Math.max(...imageSizes.map((s) => s[0]));
  const scales = features.map((x) => inferScale(x.shape[1], maxHeight));
  const kMin = Math.round(-Math.log2(scales[0]));
  const kMax = Math.round(-Math.log2(scales[scales.length - 1]));
  const c = features[0].shape[3];
  const p = opts.outputSize;
  return tf.tidy(() => {
    const pieces: tf.Tensor4D[] = [];
    // position of each RoI (in the output order) inside the concatenation of pieces
    const placed: number[] = [];
    let base = 0;
    let done = 0;
    boxesPerImage.forEach((boxes, b) => {
      const n = boxes.length / 4;
      const levels = kMin === kMax ? new Int32Array(n) : assignLevels(boxes, kMin, kMax, opts.canonicalScale, opts.canonicalLevel);
      for (let level = 0; level < features.length; level++) {
        const members: number[] = [];
        levels.forEach((l, i) => l === level && members.push(i));
        if (members.length === 0) continue;
        const sub = new Float32Array(members.length * 4);
        members.forEach((i, k) => sub.set(boxes.subarray(4 * i, 4 * i + 4), 4 * k));
        const fmap = tf.slice(features[level], [b, 0, 0, 0], [1, -1, -1, -1]);
        pieces.push(roiAlign(fmap, sub, scales[level], opts));
        members.forEach((i, k) => (placed[base + i] = done + k));
        done += members.length;
      }
      base += n;
    });
    if (pieces.length === 0) return tf.zeros([0, p, p, c]) as tf.Tensor4D;
    const all = pieces.length === 1 ? pieces[0] : tf.concat(pieces, 0);
    const identity = placed.every((v, i) => v === i);
    return identity ? all : tf.gather(all, Int32Array.from(placed), 0);
  });
}
