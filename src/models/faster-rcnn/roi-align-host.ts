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
// the (grid + 1)² distinct taps of a bin). On wasm the sums run in place on the backend's heap, in
// relaxed-SIMD fused multiply-adds (src/backend/simd/heap-row-sums.ts): one rounding per
// accumulation too, with the tap weight rounded to float32 first.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { simdEnabled } from '../../backend/kernels/simd-product.js';
import { backendMemory } from '../../backend/kernels/wasm-heap.js';
import { heapRowSums, ROW_SUM_CHANNEL_MULTIPLE, ROW_SUM_ENTRY_BYTES } from '../../backend/simd/heap-row-sums.js';
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

/** Walks taps: `visit(d, s, k)` for dst row d += k · src row s (float offsets of each row's first channel). */
type TapWalk = (visit: (d: number, s: number, k: number) => void) => void;

/** One accumulation: every tap `walk` visits, from `src` into `dst` (both [.., C] float32 tensors). */
interface RowSumJob {
  dst: tf.Tensor;
  src: tf.Tensor;
  walk: TapWalk;
}

/** List entries per kernel call (768 KB of list). */
const ENTRIES = 1 << 16;

/**
 * Runs the jobs into their `dst` tensors in place on the wasm heap, or returns false where the SIMD
 * kernel cannot run them (another backend, SIMD off, channels not a multiple of 16).
 */
function heapRowSumJobs(jobs: RowSumJob[], c: number): boolean {
  if (tf.getBackend() !== 'wasm' || !simdEnabled() || c % ROW_SUM_CHANNEL_MULTIPLE !== 0) return false;
  const backend = tf.backend() as BackendWasm;
  const memory = backendMemory(backend);
  const kernel = memory && heapRowSums(memory);
  if (!memory || !kernel) return false;
  const scratch = tf.zeros([(ENTRIES * ROW_SUM_ENTRY_BYTES) / 4], 'int32');
  // Addresses and views after the last allocation (one may grow the memory).
  const address = (t: tf.Tensor) => backend.typedArrayFromHeap(t).byteOffset;
  const list = address(scratch);
  const ints = new Int32Array(memory.buffer, list, scratch.size);
  const floats = new Float32Array(memory.buffer, list, scratch.size);
  let n = 0;
  for (const job of jobs) {
    const dst = address(job.dst);
    const src = address(job.src);
    job.walk((d, s, k) => {
      const e = 3 * n;
      ints[e] = dst + 4 * d;
      ints[e + 1] = src + 4 * s;
      floats[e + 2] = k;
      if (++n === ENTRIES) {
        kernel.run(list, n, c);
        n = 0;
      }
    });
  }
  if (n > 0) kernel.run(list, n, c);
  scratch.dispose();
  return true;
}

/** The same in JavaScript on host copies: products in double, one rounding per accumulation. */
function hostRowSums(dst: Float32Array, src: Float32Array, c: number, walk: TapWalk): void {
  walk((d, s, k) => {
    for (let ch = 0; ch < c; ch++) dst[d + ch] += k * src[s + ch];
  });
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
    const shape: [number, number, number, number] = [numRois, p, p, c];
    // forward: pooled row o += k · map row m; backward: map gradient row m += k · dy row o
    const forward = (plan: LevelPlan): TapWalk => (visit) => forEachTap(plan, maps[plan.level].shape, p, visit);
    const backward = (plan: LevelPlan): TapWalk => (visit) => forEachTap(plan, maps[plan.level].shape, p, (o, m, k) => visit(m, o, k));
    let value: tf.Tensor4D = tf.zeros(shape);
    if (!heapRowSumJobs(plans.map((plan) => ({ dst: value, src: maps[plan.level], walk: forward(plan) })), c)) {
      value.dispose();
      const out = new Float32Array(numRois * p * p * c);
      for (const plan of plans) hostRowSums(out, maps[plan.level].dataSync() as Float32Array, c, forward(plan));
      value = tf.tensor4d(out, shape);
    }
    return {
      value,
      gradFunc: (dy: tf.Tensor) => {
        const grads = maps.map((map) => tf.zeros(map.shape) as tf.Tensor4D);
        if (heapRowSumJobs(plans.map((plan) => ({ dst: grads[plan.level], src: dy, walk: backward(plan) })), c)) return grads;
        tf.dispose(grads);
        const g = dy.dataSync() as Float32Array;
        return maps.map((map, l) => {
          const grad = new Float32Array(map.size);
          for (const plan of plans) if (plan.level === l) hostRowSums(grad, g, c, backward(plan));
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
