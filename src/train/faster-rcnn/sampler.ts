// torchvision's BalancedPositiveNegativeSampler: per image, at most
// floor(batchSizePerImage * positiveFraction) positives, and negatives to fill the batch.
import type { SeededRandom } from './random.js';

export interface SamplerOptions {
  batchSizePerImage: number;
  positiveFraction: number;
}

export interface BalancedSample {
  /** Indices of the sampled positives, ascending. */
  positives: number[];
  /** Indices of the sampled negatives, ascending. */
  negatives: number[];
}

/**
 * `labels` per candidate: >= 1 positive, 0 negative, < 0 ignored (torchvision's convention).
 * With `random`, the subsets are drawn uniformly without replacement (as torch.randperm does).
 * Without it, the first candidates in index order are taken: deterministic, and the same set as
 * torchvision's whenever the quotas cover every candidate (the loss-parity setting).
 */
export function sampleBalanced(labels: ArrayLike<number>, opts: SamplerOptions, random?: SeededRandom): BalancedSample {
  const positive: number[] = [];
  const negative: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= 1) positive.push(i);
    else if (labels[i] === 0) negative.push(i);
  }
  const numPos = Math.min(positive.length, Math.floor(opts.batchSizePerImage * opts.positiveFraction));
  const numNeg = Math.min(negative.length, opts.batchSizePerImage - numPos);
  return { positives: choose(positive, numPos, random), negatives: choose(negative, numNeg, random) };
}

/** `k` of `items`, returned in ascending order. */
function choose(items: number[], k: number, random: SeededRandom | undefined): number[] {
  if (k >= items.length) return items;
  if (!random) return items.slice(0, k);
  // partial Fisher-Yates: the first k slots end up a uniform random k-subset
  const pool = items.slice();
  for (let i = 0; i < k; i++) {
    const j = i + random.below(pool.length - i);
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, k).sort((a, b) => a - b);
}
