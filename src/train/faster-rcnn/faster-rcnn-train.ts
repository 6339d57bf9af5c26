// Faster R-CNN's training forward, as torchvision's GeneralizedRCNN computes it in train mode:
// features → RPN head → anchors → proposals (from values read off the tape: torchvision detaches
// them) → RPN targets and losses → proposals + ground truth → sampled RoIs → RoIAlign → box head
// → RoI losses. Everything differentiable stays on the tape: the RoI losses reach the FPN and the
// backbone through RoIAlign, the RPN losses through the RPN head.
import * as tf from '@tensorflow/tfjs-core';
import type { WeightMap } from '../../models/layers/weights.js';
import { encodeBoxes } from '../../models/faster-rcnn/box-coder.js';
import type { FasterRCNN } from '../../models/faster-rcnn/faster-rcnn.js';
import type { RPNHeadOutput } from '../../models/faster-rcnn/rpn.js';
import { microBatchRanges } from '../micro-batch.js';
import { rpnLosses, roiLosses } from './losses.js';
import type { SeededRandom } from './random.js';
import { sampleBalanced } from './sampler.js';
import { assignAnchorTargets, sampleRoITargets, type ImageTargets, type RoISamples } from './targets.js';

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

/** One image's sampled anchors: 1 positive, 0 negative, -1 not sampled, and their regression targets. */
interface AnchorSample {
  sampledLabels: Int8Array;
  regressionTargets: Float32Array;
}

/**
 * Every sampling decision of a batch, drawn outside the tape in torchvision's order (the anchors
 * of every image, then the RoIs of every image), with the whole-batch normalisers. The losses of
 * any run of images computed from it add up to the whole batch's losses, so the gradients of
 * micro-batches sum to the whole batch's gradient.
 */
export interface SamplingPlan {
  anchors: Float32Array;
  rpn: AnchorSample[];
  /** Anchors sampled over the whole batch (both RPN losses divide by it). */
  rpnNormalizer: number;
  rois: RoISamples[];
  /** RoIs sampled over the whole batch (both RoI losses divide by it). */
  roiNormalizer: number;
}

/** Per image, torchvision's RPN assignment and balanced sampling (draws from `random` image by image). */
function sampleAnchors(detector: FasterRCNN, anchors: Float32Array, targets: ImageTargets[], random?: SeededRandom): AnchorSample[] {
  const cfg = detector.config.rpn;
  const numAnchors = anchors.length / 4;
  return targets.map((target) => {
    const sampledLabels = new Int8Array(numAnchors).fill(-1);
    const regressionTargets = new Float32Array(numAnchors * 4);
    const { labels, matchedBoxes } = assignAnchorTargets(anchors, target.boxes, cfg);
    const { positives, negatives } = sampleBalanced(labels, cfg, random);
    for (const i of negatives) sampledLabels[i] = 0;
    for (const i of positives) sampledLabels[i] = 1;
    if (positives.length > 0) regressionTargets.set(encodeBoxes(matchedBoxes, anchors, cfg.bboxRegWeights));
    return { sampledLabels, regressionTargets };
  });
}

const countSampled = (samples: AnchorSample[]) => samples.reduce((n, s) => n + s.sampledLabels.reduce((k, l) => k + (l >= 0 ? 1 : 0), 0), 0);

/** The RPN losses of images [start, end) of a plan, normalised over its whole batch. */
function planRpnLosses(head: RPNHeadOutput, plan: SamplingPlan, start: number, end: number): { lossObjectness: tf.Scalar; lossRpnBoxReg: tf.Scalar } {
  const total = (end - start) * (plan.anchors.length / 4);
  const own = plan.rpn.slice(start, end);
  return rpnLosses(
    {
      objectness: tf.reshape(head.objectness, [total]),
      deltas: tf.reshape(head.deltas, [total, 4]),
      sampledLabels: concat(Int8Array, own.map((s) => s.sampledLabels)),
      regressionTargets: concat(Float32Array, own.map((s) => s.regressionTargets)),
    },
    plan.rpnNormalizer,
  );
}

/** The RoI losses of images [start, end) of a plan (features of those images), normalised over its whole batch. */
function planRoiLosses(
  detector: FasterRCNN,
  weights: WeightMap,
  features: tf.Tensor4D[],
  plan: SamplingPlan,
  imageSizes: Array<[number, number]>,
  start: number,
  end: number,
): { lossClassifier: tf.Scalar; lossBoxReg: tf.Scalar } {
  const own = plan.rois.slice(start, end);
  const pooled = detector.roiAlign(features, own.map((s) => s.rois), imageSizes.slice(start, end));
  const { classLogits, boxDeltas } = detector.roiHead(weights, pooled);
  return roiLosses(
    {
      classLogits,
      boxRegression: boxDeltas,
      labels: concat(Int32Array, own.map((s) => s.labels)),
      regressionTargets: concat(Float32Array, own.map((s) => s.regressionTargets)),
    },
    plan.roiNormalizer,
  );
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
  const proposals = precomputed ?? trainingProposals(detector, { anchors, numPerLevel }, head.objectness.dataSync() as Float32Array, head.deltas.dataSync() as Float32Array, batch.imageSizes);
  const rpn = sampleAnchors(detector, anchors, batch.targets, random);
  const plan = { anchors, rpn, rpnNormalizer: countSampled(rpn), rois: [], roiNormalizer: 0 };
  return { ...planRpnLosses(head, plan, 0, numImages), proposals };
}

/** Each image's training-mode proposals from the RPN head's outputs (values, no gradient). */
function trainingProposals(
  detector: FasterRCNN,
  { anchors, numPerLevel }: { anchors: Float32Array; numPerLevel: number[] },
  objectness: Float32Array,
  deltas: Float32Array,
  imageSizes: Array<[number, number]>,
): Float32Array[] {
  const numAnchors = anchors.length / 4;
  return imageSizes.map((size, b) => {
    const at = b * numAnchors;
    const own = detector.proposals(anchors, objectness.subarray(at, at + numAnchors), deltas.subarray(4 * at, 4 * (at + numAnchors)), numPerLevel, size, true);
    return own.boxes;
  });
}

/**
 * The proposals of images [start, end) of a batch, computed before the tape with asynchronous
 * reads: backbone, FPN and RPN head run once more, without a tape; BatchNorm in train mode
 * normalises over these images as their step will, and its statistics here are dropped.
 */
async function proposalsBeforeTape(detector: FasterRCNN, weights: WeightMap, batch: DetectionBatch, training: boolean, start: number, end: number) {
  const [numImages, paddedH, paddedW] = batch.images.shape;
  const { features, objectness, deltas } = tf.tidy(() => {
    const images = start === 0 && end === numImages ? batch.images : tf.slice(batch.images, [start, 0, 0, 0], [end - start, -1, -1, -1]);
    const out = detector.features(weights, images, { training });
    const head = detector.rpnHead(weights, out.features);
    return { features: out.features, objectness: head.objectness, deltas: head.deltas };
  });
  try {
    const [o, d] = await Promise.all([objectness.data(), deltas.data()]);
    const anchors = detector.anchors(features, [paddedH, paddedW]);
    return { anchors: anchors.anchors, proposals: trainingProposals(detector, anchors, o as Float32Array, d as Float32Array, batch.imageSizes.slice(start, end)) };
  } finally {
    tf.dispose([...features, objectness, deltas]);
  }
}

/**
 * The proposals computeLosses would read off the tape, computed before it (for backends without
 * synchronous reads: webgpu in Node).
 */
export async function precomputeProposals(detector: FasterRCNN, weights: WeightMap, batch: DetectionBatch, training: boolean): Promise<Float32Array[]> {
  return (await proposalsBeforeTape(detector, weights, batch, training, 0, batch.images.shape[0])).proposals;
}

/**
 * The sampling plan of a whole batch for micro-batches of `microBatch` images: proposals computed
 * micro-batch by micro-batch without a tape, then the anchors and RoIs of every image drawn in
 * the order the whole-batch step draws them, so both steps sample the same anchors and RoIs.
 */
export async function planSampling(detector: FasterRCNN, weights: WeightMap, batch: DetectionBatch, microBatch: number, opts: { training: boolean; random?: SeededRandom }): Promise<SamplingPlan> {
  const numImages = batch.images.shape[0];
  checkBatch(batch, numImages);
  const proposals: Float32Array[] = [];
  let anchors: Float32Array = new Float32Array(0);
  for (const [start, end] of microBatchRanges(numImages, microBatch)) {
    const part = await proposalsBeforeTape(detector, weights, batch, opts.training, start, end);
    anchors = part.anchors;
    proposals.push(...part.proposals);
  }
  const rpn = sampleAnchors(detector, anchors, batch.targets, opts.random);
  const rois = proposals.map((p, b) => sampleRoITargets(p, batch.targets[b], detector.config.roiHead, opts.random));
  return { anchors, rpn, rpnNormalizer: countSampled(rpn), rois, roiNormalizer: rois.reduce((n, s) => n + s.labels.length, 0) };
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
  checkBatch(batch, proposals.length);
  const rois = proposals.map((p, b) => sampleRoITargets(p, batch.targets[b], detector.config.roiHead, random));
  const plan = { anchors: new Float32Array(0), rpn: [], rpnNormalizer: 0, rois, roiNormalizer: rois.reduce((n, s) => n + s.labels.length, 0) };
  return planRoiLosses(detector, weights, features, plan, batch.imageSizes, 0, proposals.length);
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
    return withBnUpdates({ ...rpn, ...roi }, bnUpdates);
  });
}

/**
 * Images [start, end) of a batch, forward with the losses their share of the whole batch holds
 * under `plan` (planSampling): the losses of all micro-batches add up to computeLosses' losses,
 * and so do their gradients when BatchNorm keeps running statistics.
 */
export function computeMicroBatchLosses(
  detector: FasterRCNN,
  weights: WeightMap,
  batch: DetectionBatch,
  plan: SamplingPlan,
  [start, end]: [number, number],
  opts: { batchNormTraining?: boolean } = {},
): DetectionLosses {
  return tf.tidy(() => {
    const images = tf.slice(batch.images, [start, 0, 0, 0], [end - start, -1, -1, -1]);
    const { features, bnUpdates } = detector.features(weights, images, { training: opts.batchNormTraining ?? false });
    const rpn = planRpnLosses(detector.rpnHead(weights, features), plan, start, end);
    const roi = planRoiLosses(detector, weights, features, plan, batch.imageSizes, start, end);
    return withBnUpdates({ ...rpn, ...roi }, bnUpdates);
  });
}

function withBnUpdates(l: DetectionLosses, bnUpdates: WeightMap | undefined): DetectionLosses {
  const losses = { lossObjectness: l.lossObjectness, lossRpnBoxReg: l.lossRpnBoxReg, lossClassifier: l.lossClassifier, lossBoxReg: l.lossBoxReg };
  return bnUpdates ? { ...losses, bnUpdates } : losses;
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

function concat<T extends Int8Array | Int32Array | Float32Array>(Kind: { new (n: number): T }, parts: T[]): T {
  const out = new Kind(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
