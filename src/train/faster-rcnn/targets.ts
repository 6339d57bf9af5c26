// Training targets, as torchvision assigns them: anchors ↔ ground truth for the RPN
// (`assign_targets_to_anchors`), and proposals + ground truth ↔ ground truth for the RoI head
// (`select_training_samples`). Boxes are flat float32 (x1, y1, x2, y2) rows in transformed-image
// coordinates; everything here is bookkeeping on plain arrays, outside the gradient tape.
import type { BoxCoderWeights } from '../../models/faster-rcnn/box-coder.js';
import { encodeBoxes } from '../../models/faster-rcnn/box-coder.js';
import { boxIou, numBoxes, selectBoxes } from '../../models/faster-rcnn/boxes.js';
import { BELOW_LOW_THRESHOLD, BETWEEN_THRESHOLDS, matchPredictions } from './matcher.js';
import type { SeededRandom } from './random.js';
import { sampleBalanced, type SamplerOptions } from './sampler.js';

export interface ImageTargets {
  /** Ground-truth boxes `[G*4]` in transformed-image pixels. */
  boxes: Float32Array;
  /** Ground-truth classes `[G]`, 1..numClasses-1 (0 is background, torchvision's numbering). */
  labels: Int32Array;
}

export interface IouThresholds {
  fgIouThresh: number;
  bgIouThresh: number;
}

export interface AnchorTargets {
  /** Per anchor: 1 object, 0 background, -1 ignored (IoU between the thresholds). */
  labels: Int8Array;
  /** Per anchor, the ground-truth box it regresses to (`[A*4]`; row 0's box for unmatched anchors). */
  matchedBoxes: Float32Array;
}

/** torchvision's RPN assignment: Matcher(fg, bg, allow_low_quality_matches=True). */
export function assignAnchorTargets(anchors: Float32Array, gt: Float32Array, opts: IouThresholds): AnchorTargets {
  const numAnchors = numBoxes(anchors);
  const labels = new Int8Array(numAnchors);
  if (numBoxes(gt) === 0) return { labels, matchedBoxes: new Float32Array(numAnchors * 4) }; // background image
  const matches = matchPredictions(boxIou(gt, anchors), numBoxes(gt), {
    highThreshold: opts.fgIouThresh,
    lowThreshold: opts.bgIouThresh,
    allowLowQualityMatches: true,
  });
  for (let a = 0; a < numAnchors; a++) {
    labels[a] = matches[a] >= 0 ? 1 : matches[a] === BETWEEN_THRESHOLDS ? -1 : 0;
  }
  return { labels, matchedBoxes: selectBoxes(gt, Array.from(matches, (m) => Math.max(m, 0))) };
}

export interface RoISamples {
  /** The sampled RoIs `[S*4]`: proposals and appended ground-truth boxes, in ascending index order. */
  rois: Float32Array;
  /** Class per sampled RoI: its matched ground truth's label, or 0 (background). */
  labels: Int32Array;
  /** Box-coder targets `[S*4]` of each sampled RoI towards its matched ground truth (meaningful where label > 0). */
  regressionTargets: Float32Array;
}

export interface RoISamplingOptions extends IouThresholds, SamplerOptions {
  bboxRegWeights: BoxCoderWeights;
}

/**
 * torchvision's `select_training_samples` for one image: append the ground-truth boxes to the
 * proposals, match with Matcher(fg, bg, allow_low_quality_matches=False), label (class, 0 below
 * the low threshold, -1 between), sample, and encode the sampled RoIs' regression targets.
 */
export function sampleRoITargets(
  proposals: Float32Array,
  target: ImageTargets,
  opts: RoISamplingOptions,
  random?: SeededRandom,
): RoISamples {
  const candidates = new Float32Array(proposals.length + target.boxes.length);
  candidates.set(proposals);
  candidates.set(target.boxes, proposals.length);
  const numCandidates = numBoxes(candidates);
  const numGt = numBoxes(target.boxes);

  const labels = new Int32Array(numCandidates);
  const matched = new Int32Array(numCandidates);
  if (numGt > 0) {
    const matches = matchPredictions(boxIou(target.boxes, candidates), numGt, {
      highThreshold: opts.fgIouThresh,
      lowThreshold: opts.bgIouThresh,
      allowLowQualityMatches: false,
    });
    for (let i = 0; i < numCandidates; i++) {
      matched[i] = Math.max(matches[i], 0);
      labels[i] =
        matches[i] === BELOW_LOW_THRESHOLD ? 0 : matches[i] === BETWEEN_THRESHOLDS ? -1 : target.labels[matched[i]];
    }
  }

  const { positives, negatives } = sampleBalanced(labels, opts, random);
  // torchvision keeps the sampled RoIs in index order (torch.where over the union of both masks)
  const sampled = positives.concat(negatives).sort((a, b) => a - b);
  const rois = selectBoxes(candidates, sampled);
  const sampledLabels = Int32Array.from(sampled, (i) => labels[i]);
  const gtBoxes = numGt > 0 ? target.boxes : new Float32Array(4);
  const matchedBoxes = selectBoxes(gtBoxes, Array.from(sampled, (i) => matched[i]));
  return { rois, labels: sampledLabels, regressionTargets: encodeBoxes(matchedBoxes, rois, opts.bboxRegWeights) };
}
