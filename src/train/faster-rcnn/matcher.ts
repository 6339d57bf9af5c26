// torchvision's `Matcher`: gives each prediction (anchor or proposal) the index of its best
// ground-truth box, or a negative code when that best IoU is too low. Plain arrays: matching is
// bookkeeping, not part of the differentiable graph.

/** Best IoU below the low threshold: a negative (background) sample. */
export const BELOW_LOW_THRESHOLD = -1;
/** Best IoU in [low, high): neither positive nor negative; ignored by the sampler. */
export const BETWEEN_THRESHOLDS = -2;

export interface MatcherOptions {
  /** IoU >= this is a match. */
  highThreshold: number;
  /** IoU < this is BELOW_LOW_THRESHOLD; in between is BETWEEN_THRESHOLDS. */
  lowThreshold: number;
  /**
   * torchvision's `allow_low_quality_matches` (the RPN sets it): for each ground truth, the
   * predictions with its highest IoU (ties included) get their best match back even if it is low.
   */
  allowLowQualityMatches: boolean;
}

/**
 * `quality` is the row-major `[numGt, numPred]` IoU matrix (`boxIou(gt, predictions)`).
 * Returns, per prediction, a ground-truth index in `[0, numGt)` or one of the negative codes.
 * Ties in a prediction's best IoU go to the lowest ground-truth index, as torch's `max(dim=0)`.
 */
export function matchPredictions(quality: Float32Array, numGt: number, opts: MatcherOptions): Int32Array {
  if (opts.lowThreshold > opts.highThreshold) {
    throw new Error(`matcher: lowThreshold ${opts.lowThreshold} is above highThreshold ${opts.highThreshold}`);
  }
  if (numGt === 0) throw new Error('matcher: no ground-truth boxes (handle background images before matching)');
  const numPred = quality.length / numGt;
  if (numPred === 0) throw new Error('matcher: no predicted boxes to match');

  const best = new Int32Array(numPred);
  const bestValue = new Float32Array(numPred);
  for (let p = 0; p < numPred; p++) {
    let arg = 0;
    let value = quality[p];
    for (let g = 1; g < numGt; g++) {
      const v = quality[g * numPred + p];
      if (v > value) {
        value = v;
        arg = g;
      }
    }
    best[p] = arg;
    bestValue[p] = value;
  }

  const matches = new Int32Array(numPred);
  for (let p = 0; p < numPred; p++) {
    const v = bestValue[p];
    matches[p] = v < opts.lowThreshold ? BELOW_LOW_THRESHOLD : v < opts.highThreshold ? BETWEEN_THRESHOLDS : best[p];
  }

  if (opts.allowLowQualityMatches) {
    for (let g = 0; g < numGt; g++) {
      const row = quality.subarray(g * numPred, (g + 1) * numPred);
      let highest = -Infinity;
      for (let p = 0; p < numPred; p++) if (row[p] > highest) highest = row[p];
      // every prediction tied at this gt's highest quality gets its own best match (not
      // necessarily this gt: torchvision restores the unthresholded argmax)
      for (let p = 0; p < numPred; p++) if (row[p] === highest) matches[p] = best[p];
    }
  }
  return matches;
}
