// Faster R-CNN's training forward, as torchvision's GeneralizedRCNN computes it in train mode:
// features → RPN head → anchors → proposals (from values read off the tape: torchvision detaches
// them) → RPN targets and losses → proposals + ground truth → sampled RoIs → RoIAlign → box head
// → RoI losses. Everything differentiable stays on the tape: the RoI losses reach the FPN and the
// backbone through RoIAlign, the RPN losses through the RPN head.
import * as tf from '@tensorflow/tfjs-core';
import type { WeightMap } from '../../models/layers/weights.js';
import { encodeBoxes } from '../../models/detection/box-coder.js';
import type { FasterRCNN } from '../../models/detection/faster-rcnn.js';
import { rpnLosses, roiLosses } from './losses.js';
import type { SeededRandom } from './random.js';
import { sampleBalanced } from './sampler.js';
import { assignAnchorTargets, sampleRoITargets, type ImageTargets } from './targets.js';

export interface DetectionBatch {
  /** Transformed batch (resized, normalised, zero-padded to the size divisor), NHWC `[B, H, W, 3]`. */
  images: tf.Tensor4D;
  /** Each image's resized size `[h, w]` before padding. */
  imageSizes: Array<[number, number]>;
  /** Each image's ground truth, boxes in transformed-image pixels. */
  targets: ImageTargets[];
}

export interface LossOptions {
  /**
   * Draws the RPN and RoI samples. Without it the sampler takes the first candidates in index
   * order: deterministic, and identical to torchvision when the quotas cover every candidate.
   */
  random?: SeededRandom;
  /**
   * Each image's training-mode proposals, computed before the tape (precomputeProposals) where
   * the backend cannot read tensors synchronously (webgpu in Node). Default: read off the tape.
   */
  proposals?: Float32Array[];
  /**
   * The backbone in train mode (torchvision's BatchNorm2d in train mode): BatchNorm layers outside
   * the frozen stages use batch statistics, unless the backbone has normEval. Default false:
   * running statistics everywhere, as FrozenBatchNorm2d.
   */
  batchNormTraining?: boolean;
}

// a type alias (not an interface) so it is a tf.TensorContainer: tf.tidy can return it
export type DetectionLosses = {
  lossObjectness: tf.Scalar;
  lossRpnBoxReg: tf.Scalar;
  lossClassifier: tf.Scalar;
  lossBoxReg: tf.Scalar;
  /** With batchNormTraining: the running statistics to assign after the step (see FeaturesOutput). */
  bnUpdates?: WeightMap;
};

export interface RpnStage {
  lossObjectness: tf.Scalar;
  lossRpnBoxReg: tf.Scalar;
  /** Each image's proposals (training-mode filtering), fixed boxes with no gradient. */
  proposals: Float32Array[];
}

/**
 * RPN head, proposals and RPN losses for a batch whose FPN outputs are `features`.
 * torchvision samples anchors per image (batchSizePerImage each) and normalises both RPN losses
 * by the number of anchors sampled over the whole batch.
 */
export function rpnStage(
  detector: FasterRCNN,
  weights: WeightMap,
  features: tf.Tensor4D[],
  batch: DetectionBatch,
  random?: SeededRandom,
  precomputed?: Float32Array[],
): RpnStage {
  const [numImages, paddedH, paddedW] = batch.images.shape;
  checkBatch(batch, numImages);
  const head = detector.rpnHead(weights, features);
  const { anchors, numPerLevel } = detector.anchors(features, [paddedH, paddedW]);
  const numAnchors = anchors.length / 4;
  const proposals = precomputed ?? trainingProposals(detector, { anchors, numPerLevel }, head.objectness.dataSync() as Float32Array, head.deltas.dataSync() as Float32Array, batch);
  const cfg = detector.config.rpn;
  const sampledLabels = new Int8Array(numImages * numAnchors).fill(-1);
  const regressionTargets = new Float32Array(numImages * numAnchors * 4);
  for (let b = 0; b < numImages; b++) {
    const at = b * numAnchors;
    const { labels, matchedBoxes } = assignAnchorTargets(anchors, batch.targets[b].boxes, cfg);
    const { positives, negatives } = sampleBalanced(labels, cfg, random);
    for (const i of negatives) sampledLabels[at + i] = 0;
    if (positives.length === 0) continue;
    for (const i of positives) sampledLabels[at + i] = 1;
    regressionTargets.set(encodeBoxes(matchedBoxes, anchors, cfg.bboxRegWeights), 4 * at);
  }
  const losses = rpnLosses({
    objectness: tf.reshape(head.objectness, [numImages * numAnchors]),
    deltas: tf.reshape(head.deltas, [numImages * numAnchors, 4]),
    sampledLabels,
    regressionTargets,
  });
  return { ...losses, proposals };
}

/** Each image's training-mode proposals from the RPN head's outputs (values, no gradient). */
function trainingProposals(
  detector: FasterRCNN,
  { anchors, numPerLevel }: { anchors: Float32Array; numPerLevel: number[] },
  objectness: Float32Array,
  deltas: Float32Array,
  batch: DetectionBatch,
): Float32Array[] {
  const numImages = batch.images.shape[0];
  const numAnchors = anchors.length / 4;
  return Array.from({ length: numImages }, (_, b) => {
    const at = b * numAnchors;
    const own = detector.proposals(anchors, objectness.subarray(at, at + numAnchors), deltas.subarray(4 * at, 4 * (at + numAnchors)), numPerLevel, batch.imageSizes[b], true);
    return own.boxes;
  });
}

/**
 * The proposals computeLosses would read off the tape, computed before it with asynchronous
 * reads (for backends without synchronous reads: webgpu in Node). Runs the backbone, FPN and RPN
 * head once more; BatchNorm in train mode normalises as the step will, and its statistics here
 * are dropped (the step's own are the ones kept).
 */
export async function precomputeProposals(detector: FasterRCNN, weights: WeightMap, batch: DetectionBatch, training: boolean): Promise<Float32Array[]> {
  const [, paddedH, paddedW] = batch.images.shape;
  const { features, objectness, deltas } = tf.tidy(() => {
    const out = detector.features(weights, batch.images, { training });
    const head = detector.rpnHead(weights, out.features);
    return { features: out.features, objectness: head.objectness, deltas: head.deltas };
  });
  try {
    const [o, d] = await Promise.all([objectness.data(), deltas.data()]);
    return trainingProposals(detector, detector.anchors(features, [paddedH, paddedW]), o as Float32Array, d as Float32Array, batch);
  } finally {
    tf.dispose([...features, objectness, deltas]);
  }
}

/**
 * RoI head losses for given proposals (per image, transformed-image pixels): ground truth
 * appended, matched, sampled per image (batchSizePerImage each), pooled, classified; both losses
 * normalised by the number of RoIs sampled over the whole batch.
 */
export function roiStage(
  detector: FasterRCNN,
  weights: WeightMap,
  features: tf.Tensor4D[],
  proposals: Float32Array[],
  batch: DetectionBatch,
  random?: SeededRandom,
): { lossClassifier: tf.Scalar; lossBoxReg: tf.Scalar } {
  const cfg = detector.config.roiHead;
  checkBatch(batch, proposals.length);
  const samples = proposals.map((p, b) => sampleRoITargets(p, batch.targets[b], cfg, random));
  const pooled = detector.roiAlign(features, samples.map((s) => s.rois), batch.imageSizes);
  const { classLogits, boxDeltas } = detector.roiHead(weights, pooled);
  return roiLosses({
    classLogits,
    boxRegression: boxDeltas,
    labels: concatInt32(samples.map((s) => s.labels)),
    regressionTargets: concatFloat32(samples.map((s) => s.regressionTargets)),
  });
}

/**
 * The four torchvision losses of one batch, differentiable w.r.t. `weights` (call it inside
 * tf.grads / optimizer.minimize). Sampling draws from `opts.random`.
 */
export function computeLosses(
  detector: FasterRCNN,
  weights: WeightMap,
  batch: DetectionBatch,
  opts: LossOptions = {},
): DetectionLosses {
  return tf.tidy(() => {
    const { features, bnUpdates } = detector.features(weights, batch.images, { training: opts.batchNormTraining ?? false });
    const rpn = rpnStage(detector, weights, features, batch, opts.random, opts.proposals);
    const roi = roiStage(detector, weights, features, rpn.proposals, batch, opts.random);
    const losses = {
      lossObjectness: rpn.lossObjectness,
      lossRpnBoxReg: rpn.lossRpnBoxReg,
      lossClassifier: roi.lossClassifier,
      lossBoxReg: roi.lossBoxReg,
    };
    return bnUpdates ? { ...losses, bnUpdates } : losses;
  });
}

function checkBatch(batch: DetectionBatch, numImages: number): void {
  if (batch.imageSizes.length !== numImages || batch.targets.length !== numImages) {
    throw new Error(
      `detection batch: ${numImages} images but ${batch.imageSizes.length} image sizes and ${batch.targets.length} targets`,
    );
  }
  batch.targets.forEach((t, b) => {
    if (t.boxes.length !== 4 * t.labels.length) {
      throw new Error(`detection batch: image ${b} has ${t.boxes.length / 4} boxes but ${t.labels.length} labels`);
    }
    for (let i = 0; i < t.labels.length; i++) {
      const [x1, y1, x2, y2] = t.boxes.subarray(4 * i, 4 * i + 4);
      // torchvision asserts the same: degenerate boxes make log(0) regression targets
      if (!(x2 > x1 && y2 > y1)) throw new Error(`detection batch: image ${b} box ${i} [${x1}, ${y1}, ${x2}, ${y2}] has no positive width and height`);
    }
  });
}

function concatInt32(parts: Int32Array[]): Int32Array {
  const out = new Int32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function concatFloat32(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
