// RoIAlign over several feature levels as one op computed on the host, for backends whose tensors
// the host reads synchronously (wasm, cpu). The tensor-op formulation (roi-align.ts) materialises
// a [RoIs * outputSize * W, C] band of rows per level and keeps it, its gather and its products
// on the tape: about 1.8 GB for 1,024 RoIs on a stride-4 map of 80x80x256 at batch 2. Here the
// forward reads the maps once and writes only [RoIs, P, P, C], and the backward needs no tensor
// from the forward at all: the bilinear taps of every sample are plain arrays captured by the
// gradient, which scatters dy back into each level's map.
// Both directions follow torchvision's CPU kernel operation for operation in float32 (sample
// positions, the four corner weights, the sum over samples, the division by the sample count),
// so training drifts from PyTorch no more than PyTorch's own float32 run does.
import * as tf from '@tensorflow/tfjs-core';
import type { RoIAlignOptions } from './roi-align.js';

const f = Math.fround;

/** The RoIs pooled from one level: image index, box, and the output row of each. */
export interface LevelRoIs {
  images: Int32Array;
  /** Flat (x1, y1, x2, y2) rows in input-image pixels. */
  boxes: Float32Array;
  outputRows: Int32Array;
  scale: number;
}

/** Every bilinear sample of one level's RoIs: per bin, its first sample and 1 / count; per sample, 4 corners. */
interface LevelPlan {
  level: number;
  /** Output float offset of each bin's first channel. */
  binOut: Int32Array;
  /** Samples of bin b: [binStart[b], binStart[b + 1]). */
  binStart: Int32Array;
  binCount: Float32Array;
  /** Per sample: 4 map float offsets (first channel) and 4 weights. */
  at: Int32Array;
  weight: Float32Array;
}

/** torchvision's bilinear_interpolate set-up for one sample: false when it lies outside the map. */
function corners(y: number, x: number, h: number, w: number, c: number, base: number, at: Int32Array, weight: Float32Array, k: number): boolean {
  if (y < -1 || y > h || x < -1 || x > w) return false;
  if (y <= 0) y = 0;
  if (x <= 0) x = 0;
  let yLow = Math.floor(y);
  let xLow = Math.floor(x);
  let yHigh = yLow + 1;
  let xHigh = xLow + 1;
  if (yLow >= h - 1) {
    yHigh = yLow = h - 1;
    y = yLow;
  }
  if (xLow >= w - 1) {
    xHigh = xLow = w - 1;
    x = xLow;
  }
  const ly = f(y - yLow);
  const lx = f(x - xLow);
  const hy = f(1 - ly);
  const hx = f(1 - lx);
  at.set([base + (yLow * w + xLow) * c, base + (yLow * w + xHigh) * c, base + (yHigh * w + xLow) * c, base + (yHigh * w + xHigh) * c], 4 * k);
  weight.set([f(hy * hx), f(hy * lx), f(ly * hx), f(ly * lx)], 4 * k);
  return true;
}

function planLevel(level: number, rois: LevelRoIs, shape: number[], opts: RoIAlignOptions): LevelPlan {
  const [, h, w, c] = shape;
  const p = opts.outputSize;
  const offset = opts.aligned ? 0.5 : 0;
  const n = rois.images.length;
  const binOut = new Int32Array(n * p * p);
  const binStart = new Int32Array(n * p * p + 1);
  const binCount = new Float32Array(n * p * p);
  const at: number[] = [];
  const weight: number[] = [];
  const four = new Int32Array(4);
  const fourW = new Float32Array(4);
  let samples = 0;
  for (let r = 0; r < n; r++) {
    const box = rois.boxes.subarray(4 * r, 4 * r + 4);
    const x0 = f(f(box[0] * rois.scale) - offset);
    const y0 = f(f(box[1] * rois.scale) - offset);
    let rw = f(f(f(box[2] * rois.scale) - offset) - x0);
    let rh = f(f(f(box[3] * rois.scale) - offset) - y0);
    if (!opts.aligned) {
      rw = Math.max(rw, 1);
      rh = Math.max(rh, 1);
    }
    const binH = f(rh / p);
    const binW = f(rw / p);
    const gridH = opts.samplingRatio > 0 ? opts.samplingRatio : Math.ceil(f(rh / p));
    const gridW = opts.samplingRatio > 0 ? opts.samplingRatio : Math.ceil(f(rw / p));
    const count = Math.max(gridH * gridW, 1);
    const base = rois.images[r] * h * w * c;
    for (let ph = 0; ph < p; ph++) {
      for (let pw = 0; pw < p; pw++) {
        const bin = (r * p + ph) * p + pw;
        binOut[bin] = ((rois.outputRows[r] * p + ph) * p + pw) * c;
        binCount[bin] = count;
        binStart[bin] = samples;
        for (let iy = 0; iy < gridH; iy++) {
          const y = f(f(y0 + f(ph * binH)) + f(f(f(iy + 0.5) * binH) / gridH));
          for (let ix = 0; ix < gridW; ix++) {
            const x = f(f(x0 + f(pw * binW)) + f(f(f(ix + 0.5) * binW) / gridW));
            if (!corners(y, x, h, w, c, base, four, fourW, 0)) continue;
            at.push(...four);
            weight.push(...fourW);
            samples++;
          }
        }
      }
    }
  }
  binStart[n * p * p] = samples;
  return { level, binOut, binStart, binCount, at: Int32Array.from(at), weight: Float32Array.from(weight) };
}

/**
 * `[numRois, P, P, C]`: RoI `rois[l].outputRows[i]` pooled from `features[l]`, differentiable
 * with respect to every level.
 */
export function roiAlignHost(features: tf.Tensor4D[], rois: LevelRoIs[], numRois: number, opts: RoIAlignOptions): tf.Tensor4D {
  const p = opts.outputSize;
  const c = features[0].shape[3];
  const plans = rois.flatMap((level, l) => (level.images.length === 0 ? [] : [planLevel(l, level, features[l].shape, opts)]));
  const op = tf.customGrad((...args) => {
    const maps = args.slice(0, features.length) as tf.Tensor4D[];
    const out = new Float32Array(numRois * p * p * c);
    for (const { level, binOut, binStart, binCount, at, weight } of plans) {
      const data = maps[level].dataSync() as Float32Array;
      for (let b = 0; b < binOut.length; b++) {
        const o = binOut[b];
        for (let s = binStart[b]; s < binStart[b + 1]; s++) {
          const [a1, a2, a3, a4] = at.subarray(4 * s, 4 * s + 4);
          const [w1, w2, w3, w4] = weight.subarray(4 * s, 4 * s + 4);
          for (let ch = 0; ch < c; ch++) {
            out[o + ch] += f(f(f(f(w1 * data[a1 + ch]) + f(w2 * data[a2 + ch])) + f(w3 * data[a3 + ch])) + f(w4 * data[a4 + ch]));
          }
        }
        const count = binCount[b];
        if (count !== 1) for (let ch = 0; ch < c; ch++) out[o + ch] /= count;
      }
    }
    return {
      value: tf.tensor4d(out, [numRois, p, p, c]),
      gradFunc: (dy: tf.Tensor) => {
        const g = dy.dataSync() as Float32Array;
        return maps.map((map, l) => {
          const grad = new Float32Array(map.size);
          for (const { level, binOut, binStart, binCount, at, weight } of plans) {
            if (level !== l) continue;
            for (let b = 0; b < binOut.length; b++) {
              const o = binOut[b];
              const count = binCount[b];
              for (let s = binStart[b]; s < binStart[b + 1]; s++) {
                for (let k = 0; k < 4; k++) {
                  const a = at[4 * s + k];
                  const wk = weight[4 * s + k];
                  for (let ch = 0; ch < c; ch++) grad[a + ch] += f(f(g[o + ch] * wk) / count);
                }
              }
            }
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
