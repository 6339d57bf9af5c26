// RoIAlign over several feature levels as one op computed on the host, for backends whose tensors
// the host reads synchronously (wasm, cpu). The tensor-op formulation (roi-align.ts) materialises
// a [RoIs * outputSize * W, C] band of rows per level and keeps it, its gather and its products
// on the tape: about 1.8 GB for 1,024 RoIs on a stride-4 map of 80x80x256 at batch 2. Here the
// forward reads the maps once and writes only [RoIs, P, P, C], and the backward needs no tensor
// from the forward at all: the separable interpolation weights (roiAlignAxisWeights, the same
// numbers as the tensor path) are plain arrays captured by the gradient, which scatters dy back
// into each level's map. Products run in double and round once per accumulation, so values and
// gradients are within float32 rounding of the tensor path's (and of torchvision's); a sample-by-
// sample port of torchvision's kernel took twice the time here (4 corner reads per sample, not
// the (grid + 1)² distinct taps of a bin).
import * as tf from '@tensorflow/tfjs-core';
import { roiAlignAxisWeights, type RoIAlignOptions } from './roi-align.js';

/** The RoIs pooled from one level: image index, box, and the output row of each. */
export interface LevelRoIs {
  images: Int32Array;
  /** Flat (x1, y1, x2, y2) rows in input-image pixels. */
  boxes: Float32Array;
  outputRows: Int32Array;
  scale: number;
}

/** Nonzero span [lo, hi) of each `size`-wide row of a weight matrix. */
function spans(weights: Float32Array, rows: number, size: number): Int32Array {
  const out = new Int32Array(2 * rows);
  for (let r = 0; r < rows; r++) {
    let lo = size;
    let hi = 0;
    for (let i = 0; i < size; i++) {
      if (weights[r * size + i] === 0) continue;
      if (lo === size) lo = i;
      hi = i + 1;
    }
    out[2 * r] = lo;
    out[2 * r + 1] = Math.max(lo, hi);
  }
  return out;
}

interface LevelPlan {
  level: number;
  rois: LevelRoIs;
  wy: Float32Array;
  wx: Float32Array;
  ySpans: Int32Array;
  xSpans: Int32Array;
}

/**
 * Visits every (RoI, bin, tap) of one level: `visit(outOffset, mapOffset, weight)` for the bin's
 * first channel in the output and the tap's first channel in the level's map.
 */
function forEachTap(plan: LevelPlan, shape: number[], p: number, visit: (out: number, map: number, k: number) => void): void {
  const [, h, w, c] = shape;
  const { rois, wy, wx, ySpans, xSpans } = plan;
  for (let r = 0; r < rois.images.length; r++) {
    const image = rois.images[r] * h * w * c;
    for (let ph = 0; ph < p; ph++) {
      const yr = r * p + ph;
      for (let pw = 0; pw < p; pw++) {
        const xr = r * p + pw;
        const out = ((rois.outputRows[r] * p + ph) * p + pw) * c;
        for (let y = ySpans[2 * yr]; y < ySpans[2 * yr + 1]; y++) {
          const a = wy[yr * h + y];
          if (a === 0) continue;
          for (let x = xSpans[2 * xr]; x < xSpans[2 * xr + 1]; x++) {
            const b = wx[xr * w + x];
            if (b !== 0) visit(out, image + (y * w + x) * c, a * b);
          }
        }
      }
    }
  }
}

/**
 * `[numRois, P, P, C]`: RoI `rois[l].outputRows[i]` pooled from `features[l]`, differentiable
 * with respect to every level.
 */
export function roiAlignHost(features: tf.Tensor4D[], rois: LevelRoIs[], numRois: number, opts: RoIAlignOptions): tf.Tensor4D {
  const p = opts.outputSize;
  const c = features[0].shape[3];
  const plans: LevelPlan[] = [];
  rois.forEach((level, l) => {
    const n = level.images.length;
    if (n === 0) return;
    const [, h, w] = features[l].shape;
    const pick = (k: number) => Float32Array.from({ length: n }, (_, r) => level.boxes[4 * r + k]);
    const wy = roiAlignAxisWeights(pick(1), pick(3), h, level.scale, opts);
    const wx = roiAlignAxisWeights(pick(0), pick(2), w, level.scale, opts);
    plans.push({ level: l, rois: level, wy, wx, ySpans: spans(wy, n * p, h), xSpans: spans(wx, n * p, w) });
  });
  const op = tf.customGrad((...args) => {
    const maps = args.slice(0, features.length) as tf.Tensor4D[];
    const out = new Float32Array(numRois * p * p * c);
    for (const plan of plans) {
      const data = maps[plan.level].dataSync() as Float32Array;
      forEachTap(plan, maps[plan.level].shape, p, (o, m, k) => {
        for (let ch = 0; ch < c; ch++) out[o + ch] += k * data[m + ch];
      });
    }
    return {
      value: tf.tensor4d(out, [numRois, p, p, c]),
      gradFunc: (dy: tf.Tensor) => {
        const g = dy.dataSync() as Float32Array;
        return maps.map((map, l) => {
          const grad = new Float32Array(map.size);
          for (const plan of plans) {
            if (plan.level !== l) continue;
            forEachTap(plan, map.shape, p, (o, m, k) => {
              for (let ch = 0; ch < c; ch++) grad[m + ch] += k * g[o + ch];
            });
          }
          return tf.tensor4d(grad, map.shape);
        });
      },
    };
  });
  return op(...features) as tf.Tensor4D;
}

/**
 * The tensor formulation's band, in floats, above which roiAlignHost runs instead (64 MiB; the
 * dli14 5-level config's stride-4 level at 320 px needs ~290 MiB): below it the tensor ops cost
 * little memory and run as native kernels.
 */
const HOST_ABOVE_FLOATS = 1 << 24;

/**
 * Whether roiAlignHost runs for these levels and RoI counts: on backends whose tensors the host
 * reads synchronously and cheaply (wasm, cpu), when some level's band ([RoIs * P * W, C]) is large.
 */
export function useHostRoIAlign(features: tf.Tensor4D[], roisPerLevel: number[], outputSize: number): boolean {
  const backend = tf.getBackend();
  if (backend !== 'wasm' && backend !== 'cpu') return false;
  return features.some((x, l) => roisPerLevel[l] * outputSize * x.shape[2] * x.shape[3] > HOST_ABOVE_FLOATS);
}
