// RoIAlign and torchvision's MultiScaleRoIAlign, built from differentiable primitives.
//
// torchvision's roi_align averages, per output bin, bilinear samples on a regular grid. Both the
// sample positions and the bilinear weights separate into a y part and an x part (so does the
// "outside the map" test), so for one RoI:
//     pooled[ph, pw, c] = sum_h sum_w Wy[ph, h] * Wx[pw, w] * feature[h, w, c]
// with Wy = (1/gridH) * sum over the bin's sample rows of their bilinear row weights (and Wx the
// same for columns). The weights are computed here in float32 exactly as the C++ kernel computes
// sample points. The y contraction is one matMul over all RoIs; the x contraction differs per RoI,
// and each output column only reads a narrow band of input columns (a few bilinear taps), so it
// is a gather of that band, a multiply and a sum (a batched matMul per RoI runs a naive loop on
// wasm, several times slower). Gradients flow into the features on every backend (no
// CropAndResize/GatherNd gradient needed).
// On wasm and cpu, where that band would be large (stride-4 levels), one host-computed op runs
// instead (roi-align-host.ts), which keeps nothing but its sample weights for the backward.
import * as tf from '@tensorflow/tfjs-core';
import { boxArea } from './boxes.js';
import { roiAlignHost, useHostRoIAlign, type LevelRoIs } from './roi-align-host.js';

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
 * The band of each row of a `[rows, size]` matrix: one common width that covers every row's
 * nonzeros, and where each row's band starts (kept inside `[0, size)`).
 */
function bands(weights: Float32Array, rows: number, size: number): { starts: Int32Array; width: number } {
  const starts = new Int32Array(rows);
  let width = 1;
  for (let r = 0; r < rows; r++) {
    let first = -1;
    let last = -1;
    for (let i = 0; i < size; i++) {
      if (weights[r * size + i] === 0) continue;
      if (first < 0) first = i;
      last = i;
    }
    starts[r] = Math.max(first, 0);
    width = Math.max(width, last - first + 1);
  }
  for (let r = 0; r < rows; r++) starts[r] = Math.min(starts[r], size - width);
  return { starts, width };
}

/**
 * roi_align on one image's feature map `[1, H, W, C]` (NHWC) for boxes given as flat rows in
 * input-image pixels. Returns `[numRois, outputSize, outputSize, C]`.
 */
export function roiAlign(feature: tf.Tensor4D, boxes: Float32Array, scale: number, opts: RoIAlignOptions): tf.Tensor4D {
  const n = boxes.length / 4;
  if (!useHostRoIAlign([feature], [n], opts.outputSize)) return roiAlignTensors(feature, boxes, scale, opts);
  const rois = { images: new Int32Array(n), boxes, outputRows: Int32Array.from({ length: n }, (_, i) => i), scale };
  return roiAlignHost([feature], [rois], n, opts);
}

/** roiAlign from tensor ops (backends without cheap synchronous reads). */
export function roiAlignTensors(feature: tf.Tensor4D, boxes: Float32Array, scale: number, opts: RoIAlignOptions): tf.Tensor4D {
  const [, h, w, c] = feature.shape;
  const n = boxes.length / 4;
  const p = opts.outputSize;
  const pick = (k: number) => Float32Array.from({ length: n }, (_, r) => boxes[4 * r + k]);
  const wy = roiAlignAxisWeights(pick(1), pick(3), h, scale, opts);
  const wx = roiAlignAxisWeights(pick(0), pick(2), w, scale, opts);
  // x taps: for RoI r, output cell (ph, pw) and tap t, row (r, ph, starts[r, pw] + t) of `rows`
  const { starts, width: k } = bands(wx, n * p, w);
  const index = new Int32Array(n * p * p * k);
  const taps = new Float32Array(index.length);
  for (let r = 0, o = 0; r < n; r++) {
    for (let ph = 0; ph < p; ph++) {
      for (let pw = 0; pw < p; pw++) {
        const start = starts[r * p + pw];
        for (let t = 0; t < k; t++, o++) {
          index[o] = (r * p + ph) * w + start + t;
          taps[o] = k * wx[(r * p + pw) * w + start + t];
        }
      }
    }
  }
  return tf.tidy(() => {
    // rows: [n*P, H] x [H, W*C] → [n, P(ph), W, C], flattened to one row per (n, ph, w)
    const rows = tf.reshape(tf.matMul(tf.tensor2d(wy, [n * p, h]), tf.reshape(feature, [h, w * c])), [n * p * w, c]);
    const weighted = tf.mul(tf.gather(rows, index), tf.tensor2d(taps, [index.length, 1]));
    // the sum over the k taps, as the mean of k-scaled taps: one average pooling (tf.sum would
    // pool and then scale by k, a slow broadcast multiply on wasm)
    const pooled = k === 1 ? weighted : tf.avgPool(tf.reshape<tf.Rank.R4>(weighted, [n * p * p, k, 1, c]), [k, 1], 1, 'valid');
    return tf.reshape(pooled, [n, p, p, c]);
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
  const levelsPerImage = boxesPerImage.map((boxes) =>
    kMin === kMax ? new Int32Array(boxes.length / 4) : assignLevels(boxes, kMin, kMax, opts.canonicalScale, opts.canonicalLevel),
  );
  const perLevel = levelRoIs(boxesPerImage, levelsPerImage, scales);
  if (useHostRoIAlign(features, perLevel.map((l) => l.images.length), p)) {
    return roiAlignHost(features, perLevel, levelsPerImage.reduce((n, l) => n + l.length, 0), opts);
  }
  return tf.tidy(() => {
    const pieces: tf.Tensor4D[] = [];
    // position of each RoI (in the output order) inside the concatenation of pieces
    const placed: number[] = [];
    let base = 0;
    let done = 0;
    boxesPerImage.forEach((boxes, b) => {
      const n = boxes.length / 4;
      const levels = levelsPerImage[b];
      for (let level = 0; level < features.length; level++) {
        const members: number[] = [];
        levels.forEach((l, i) => l === level && members.push(i));
        if (members.length === 0) continue;
        const sub = new Float32Array(members.length * 4);
        members.forEach((i, k) => sub.set(boxes.subarray(4 * i, 4 * i + 4), 4 * k));
        const fmap = tf.slice(features[level], [b, 0, 0, 0], [1, -1, -1, -1]);
        pieces.push(roiAlignTensors(fmap, sub, scales[level], opts));
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

/** Each level's RoIs (image, box, row of the output in image-then-box order) for roiAlignHost. */
function levelRoIs(boxesPerImage: Float32Array[], levelsPerImage: Int32Array[], scales: number[]): LevelRoIs[] {
  return scales.map((scale, level) => {
    const images: number[] = [];
    const rows: number[] = [];
    const boxes: number[] = [];
    let row = 0;
    levelsPerImage.forEach((levels, b) => {
      levels.forEach((l, i) => {
        if (l === level) {
          images.push(b);
          rows.push(row);
          boxes.push(...boxesPerImage[b].subarray(4 * i, 4 * i + 4));
        }
        row++;
      });
    });
    return { images: Int32Array.from(images), boxes: Float32Array.from(boxes), outputRows: Int32Array.from(rows), scale };
  });
}
