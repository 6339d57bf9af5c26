// Applies a plan to tensor data: every matched source tensor is widened to float32 and permuted
// into the TF.js layout its target's kind asks for.
import { toFloat32 } from '../checkpoint/dtype.js';
import type { StateDict } from '../checkpoint/types.js';
import type { WeightArray } from '../io/tfjs-weights.js';
import { planLayout, permute } from './layout.js';
import type { MappingPlan } from './plan.js';

/** A converted parameter in TF.js layout (the tfjs weights writer's element type). */
export type NamedWeight = WeightArray;

/** Converted weights for every matched entry of `plan`, in the order of `order` (the model's specs). */
export function applyPlan(plan: MappingPlan, stateDict: StateDict, order: string[]): NamedWeight[] {
  const byTarget = new Map(plan.matched.map((m) => [m.target, m]));
  const out: NamedWeight[] = [];
  for (const name of order) {
    const m = byTarget.get(name);
    if (!m) continue;
    const tensor = stateDict.get(m.source);
    if (!tensor) throw new Error(`internal: planned source '${m.source}' is not in the state dict`);
    const layout = planLayout(m.kind, tensor.shape);
    if ('error' in layout) throw new Error(`internal: ${layout.error}`);
    out.push({ name, shape: layout.shape, data: permute(toFloat32(tensor), layout.viewShape, layout.perm) });
  }
  return out;
}
