// A detector's weights are one WeightMap with prefixed names (`backbone.`, `neck.`, `rpn.`,
// `roi_head.`); each part reads its own sub-map with the prefix removed.
import type { WeightMap } from '../layers/weights.js';

/** The weights under `prefix`, with the prefix removed (no copies: the same tensors). */
export function subWeights(weights: WeightMap, prefix: string): WeightMap {
  const out: WeightMap = {};
  for (const [name, t] of Object.entries(weights)) if (name.startsWith(prefix)) out[name.slice(prefix.length)] = t;
  return out;
}
