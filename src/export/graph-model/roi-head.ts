// The box head and postprocess_detections as a graph (src/models/faster-rcnn/roi-head.ts): fc6 on
// the pooled RoIs (its kernel's rows reordered from PyTorch's NCHW flattening to NHWC, as
// torchport's inference does), fc7, class scores and class-specific box deltas; then softmax,
// decode, clip, drop the background column, score threshold, drop boxes under 0.01 px, NMS per
// class, the best detectionsPerImg.
import * as tf from '@tensorflow/tfjs-core';
import type { RoIHeadConfig } from '../../models/faster-rcnn/config.js';
import { classColumns } from '../../models/faster-rcnn/specs.js';
import type { Ops } from './ops.js';
import { batchedNmsGraph, bigEnough, clipGraph, decodeGraph } from './proposals.js';
import type { GraphWeights } from './weights.js';

export interface DetectionsGraph {
  boxes: string;
  scores: string;
  /** float32 class columns (the source model's numbering). */
  labels: string;
}

export function roiHeadGraph(o: Ops, w: GraphWeights, config: RoIHeadConfig, pooled: string, proposals: string, resized: string): DetectionsGraph {
  return o.g.scope('roi_head', () => {
    const p = config.outputSize;
    const fc6 = w.tensor('fc6.weight');
    const c = fc6.shape[0] / (p * p);
    const kernel6 = w.derived('fc6.weight', () => tf.reshape(tf.transpose(tf.reshape(fc6, [c, p * p, -1]), [1, 0, 2]), [p * p * c, -1]));
    const flat = o.reshape(pooled, [-1, p * p * c]);
    const h6 = o.dense(flat, kernel6, w.constant('fc6.bias'), true);
    const h7 = o.dense(h6, w.constant('fc7.weight'), w.constant('fc7.bias'), true);
    const logits = o.dense(h7, w.constant('cls_score.weight'), w.constant('cls_score.bias'));
    const deltas = o.dense(h7, w.constant('bbox_pred.weight'), w.constant('bbox_pred.bias'));

    const k = config.numClasses;
    const { foreground, deltaBlocks } = classColumns(config);
    const first = foreground[0];
    const fg = k - 1;
    const scores = o.slice(o.softmax(logits), [0, first], [-1, fg]);
    const perClass = o.reshape(deltas, [-1, deltaBlocks, 4]);
    const refs = o.reshape(proposals, [-1, 1, 4]);
    const decoded = clipGraph(o, decodeGraph(o, perClass, refs, config.bboxRegWeights, 2), resized);
    const boxes = o.reshape(o.slice(decoded, [0, first, 0], [-1, fg, 4]), [-1, 4]);
    const flatScores = o.reshape(scores, [-1]);
    // candidates in torchvision's order (proposal-major, then class): score > threshold and both
    // sides >= 0.01 px (two independent filters, applied as one mask)
    const index = o.where(o.and(o.greater(flatScores, o.f(config.scoreThresh)), bigEnough(o, boxes, 1e-2)));
    const cand = { boxes: o.gatherRows(boxes, index, [4]), scores: o.gatherRows(flatScores, index, []) };
    const labels = o.cast(o.addInt(o.floorModInt(index, o.i(fg)), o.i(first)), 'float32', 'int32');
    const keep = batchedNmsGraph(o, cand.boxes, cand.scores, labels, config.nmsThresh, config.detectionsPerImg);
    return { boxes: o.gatherRows(cand.boxes, keep, [4]), scores: o.gatherRows(cand.scores, keep, []), labels: o.gatherRows(labels, keep, []) };
  });
}
