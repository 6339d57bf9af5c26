// Region Proposal Network: the shared head (3x3 conv + ReLU, 1x1 objectness, 1x1 box deltas) and
// proposal filtering exactly as torchvision's RegionProposalNetwork.filter_proposals: per level
// top-n by objectness, sigmoid, clip to the image, drop small boxes, score threshold (>=), NMS
// per level, keep the best post-NMS top-n.
// Parameters: see specs.ts.
import * as tf from '@tensorflow/tfjs-core';
import { decodeBoxes } from './box-coder.js';
import { argsortDescending, batchedNms, clipBoxes, removeSmallBoxes, selectBoxes } from './boxes.js';
import type { RPNConfig } from './config.js';
import { conv } from './layers.js';
import type { WeightMap } from '../layers/weights.js';

export interface RPNHeadOutput {
  /** Objectness logits `[batch, totalAnchors]`, anchors ordered as generateAnchors orders them. */
  objectness: tf.Tensor2D;
  /** Box deltas `[batch, totalAnchors, 4]`. */
  deltas: tf.Tensor3D;
  numAnchorsPerLevel: number[];
}

/** Runs the head on every level; NHWC outputs flatten straight into torchvision's anchor order. */
export function rpnHead(weights: WeightMap, features: tf.Tensor4D[]): RPNHeadOutput {
  const logits: tf.Tensor2D[] = [];
  const deltas: tf.Tensor3D[] = [];
  const numAnchorsPerLevel: number[] = [];
  for (const x of features) {
    const t = conv(weights, 'conv', x, 1, 'relu');
    const o = conv(weights, 'objectness', t);
    const [b, h, w, a] = o.shape;
    logits.push(tf.reshape(o, [b, h * w * a]));
    deltas.push(tf.reshape(conv(weights, 'deltas', t), [b, h * w * a, 4]));
    numAnchorsPerLevel.push(h * w * a);
  }
  return {
    objectness: logits.length === 1 ? logits[0] : tf.concat(logits, 1),
    deltas: deltas.length === 1 ? deltas[0] : tf.concat(deltas, 1),
    numAnchorsPerLevel,
  };
}

export interface Proposals {
  /** Flat (x1, y1, x2, y2) rows in transformed-image pixels, best first. */
  boxes: Float32Array;
  /** Sigmoid objectness of each proposal. */
  scores: Float32Array;
}

const f = Math.fround;

/**
 * torchvision's filter_proposals for one image. `objectness` (logits) and `deltas` cover all
 * anchors of this image; `imageSize` is the resized (unpadded) image `[h, w]`.
 */
export function filterProposals(
  config: RPNConfig,
  anchors: Float32Array,
  objectness: Float32Array,
  deltas: Float32Array,
  numAnchorsPerLevel: number[],
  imageSize: [number, number],
  training: boolean,
): Proposals {
  const preNmsTopN = training ? config.preNmsTopN.train : config.preNmsTopN.test;
  const postNmsTopN = training ? config.postNmsTopN.train : config.postNmsTopN.test;
  const picked: number[] = [];
  const pickedLevel: number[] = [];
  let offset = 0;
  numAnchorsPerLevel.forEach((n, level) => {
    const order = argsortDescending(objectness.subarray(offset, offset + n)).slice(0, Math.min(preNmsTopN, n));
    for (const i of order) {
      picked.push(offset + i);
      pickedLevel.push(level);
    }
    offset += n;
  });
  const decoded = decodeBoxes(selectBoxes(deltas, picked), selectBoxes(anchors, picked), config.bboxRegWeights);
  let boxes = clipBoxes(decoded, imageSize[0], imageSize[1]);
  let scores = Float32Array.from(picked, (i) => f(1 / f(1 + f(Math.exp(-objectness[i])))));
  let levels = pickedLevel;
  const keepSize = removeSmallBoxes(boxes, config.minSize).filter((k) => scores[k] >= config.scoreThresh);
  boxes = selectBoxes(boxes, keepSize);
  scores = Float32Array.from(keepSize, (k) => scores[k]);
  levels = keepSize.map((k) => levels[k]);
  const keep = batchedNms(boxes, scores, levels, config.nmsThresh).slice(0, postNmsTopN);
  return { boxes: selectBoxes(boxes, keep), scores: Float32Array.from(keep, (k) => scores[k]) };
}
