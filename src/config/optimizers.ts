// Optimisers by name. The config side: each entry checks its options and fills defaults; the
// trainer (src/train) implements the update rule for the resolved spec.

import { Registry } from '../registry.js';
import { type Schema, bool, num, obj, optional } from '../schema.js';

export interface OptimizerSpec {
  type: string;
  lr: number;
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
}

export interface OptimizerEntry {
  /** Options besides `type`. */
  schema: Schema;
  resolve(options: Record<string, unknown>): OptimizerSpec;
}

export const optimizers = new Registry<OptimizerEntry>('optimizer');

optimizers.register('SGD', {
  schema: obj({
    lr: num({ min: 0, exclusiveMin: true }),
    momentum: optional(num({ min: 0, max: 1 })),
    weightDecay: optional(num({ min: 0 })),
    nesterov: optional(bool()),
  }),
  resolve: (o) => ({
    type: 'SGD',
    lr: o.lr as number,
    momentum: (o.momentum as number | undefined) ?? 0,
    weightDecay: (o.weightDecay as number | undefined) ?? 0,
    nesterov: (o.nesterov as boolean | undefined) ?? false,
  }),
});
