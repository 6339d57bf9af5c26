// The RoI head of torchvision's Faster R-CNN: TwoMLPHead (fc6, fc7 with ReLU), FastRCNNPredictor
// (cls_score, bbox_pred) and postprocess_detections.
// fc6 is applied to the pooled features flattened in NCHW order (channel-major), as torchvision
// flattens them, so fc6 keeps PyTorch's column order and converts as a plain Linear (inference
// reorders a cached copy of the kernel instead, see boxHead).
// Parameters: see specs.ts.
import * as tf from '@tensorflow/tfjs-core';
import { decodeBoxes } from './box-coder.js';
import { batchedNms, clipBoxes, removeSmallBoxes, selectBoxes } from './boxes.js';
import type { RoIHeadConfig } from './config.js';
import { classColumns } from './specs.js';
import { blockedDense, dense } from './layers.js';
import type { FoldCache } from '../layers/fold-cache.js';
import type { WeightMap } from '../layers/weights.js';

/**
 * TwoMLPHead: `[R, P, P, C]` pooled RoIs → `[R, representationSize]`; `cache` keeps fc6/fc7 in
 * column blocks. For inference the cached fc6 kernel has its rows in NHWC order instead, so the
 * pooled RoIs are flattened as they lie (the per-call transpose cost ~6 ms on wasm at 150 RoIs).
 */
export function boxHead(weights: WeightMap, pooled: tf.Tensor4D, cache: FoldCache): tf.Tensor2D {
  const [r, p, , c] = pooled.shape;
  const fc6 = tf.engine().state.gradientDepth > 0
    ? dense(weights, 'fc6', tf.reshape(tf.transpose(pooled, [0, 3, 1, 2]), [r, c * p * p]) as tf.Tensor2D, 'relu')
    : blockedDense(weights, 'fc6', tf.reshape(pooled, [r, p * p * c]) as tf.Tensor2D, cache, 'relu', (kernel) =>
      tf.reshape(tf.transpose(tf.reshape(kernel, [c, p * p, -1]), [1, 0, 2]), [p * p * c, -1]) as tf.Tensor2D);
  return blockedDense(weights, 'fc7', fc6, cache, 'relu');
}

/** FastRCNNPredictor: class logits `[R, K]` and class-specific box deltas `[R, 4K]`. */
export function boxPredictor(weights: WeightMap, x: tf.Tensor2D): { classLogits: tf.Tensor2D; boxDeltas: tf.Tensor2D } {
  return { classLogits: dense(weights, 'cls_score', x), boxDeltas: dense(weights, 'bbox_pred', x) };
}

export interface Detections {
  /** Flat (x1, y1, x2, y2) rows, best first. */
  boxes: Float32Array;
  scores: Float32Array;
  /** Class ids as the source model numbers them (column of the class scores; torchvision 1..K-1). */
  labels: Int32Array;
}

const f = Math.fround;

/** Row-wise softmax in float32 (max subtracted first, as torch does). */
function softmaxRows(logits: Float32Array, k: number): Float32Array {
  const out = new Float32Array(logits.length);
  for (let r = 0; r < logits.length; r += k) {
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, logits[r + j]);
    let sum = 0;
    for (let j = 0; j < k; j++) {
      out[r + j] = f(Math.exp(f(logits[r + j] - max)));
      sum = f(sum + out[r + j]);
    }
    for (let j = 0; j < k; j++) out[r + j] = f(out[r + j] / sum);
  }
  return out;
}

/**
 * torchvision's postprocess_detections for one image: softmax, per-class decode, clip, drop the
 * background column (first or last, see classColumns), score > threshold, drop boxes under 0.01 px, per-class NMS, keep the best
 * `detectionsPerImg`. Boxes are in resized-image pixels; `imageSize` is `[h, w]`.
 */
export function postprocessDetections(
  config: RoIHeadConfig,
  classLogits: Float32Array,
  boxDeltas: Float32Array,
  proposals: Float32Array,
  imageSize: [number, number],
): Detections {
  const k = config.numClasses;
  const { foreground, deltaBlocks } = classColumns(config);
  const scores = softmaxRows(classLogits, k);
  const boxes = clipBoxes(decodeBoxes(boxDeltas, proposals, config.bboxRegWeights), imageSize[0], imageSize[1]);
  // candidates in torchvision's order (proposal-major, then class), as box / score / label rows
  const boxRows: number[] = [];
  const ids: Array<[number, number]> = [];
  const n = proposals.length / 4;
  for (let r = 0; r < n; r++) {
    for (const j of foreground) {
      if (scores[r * k + j] > config.scoreThresh) {
        boxRows.push(r * deltaBlocks + j);
        ids.push([r, j]);
      }
    }
  }
  const all = selectBoxes(boxes, boxRows);
  const sized = removeSmallBoxes(all, 1e-2);
  const candBoxes = selectBoxes(all, sized);
  const candScores = Float32Array.from(sized, (i) => scores[ids[i][0] * k + ids[i][1]]);
  const candLabels = Int32Array.from(sized, (i) => ids[i][1]);
  const keep = batchedNms(candBoxes, candScores, candLabels, config.nmsThresh).slice(0, config.detectionsPerImg);
  return {
    boxes: selectBoxes(candBoxes, keep),
    scores: Float32Array.from(keep, (i) => candScores[i]),
    labels: Int32Array.from(keep, (i) => candLabels[i]),
  };
}
