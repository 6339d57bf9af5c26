// Learning-rate schedulers in mmengine's `param_scheduler` form, as pure functions of the
// iteration: the learning rate is the optimiser's base rate times the product of the factors of
// every scheduler (mmengine chains them multiplicatively). `byEpoch` schedulers count in epochs
// and change only at epoch boundaries.

import { Registry } from '../registry.js';
import { type Schema, bool, int, num, obj, optional, arr } from '../schema.js';

export interface SchedulerContext {
  itersPerEpoch: number;
  /** Last epoch / iteration of training, the default `end` of a scheduler. */
  maxEpochs: number;
  /** An iteration-based run's length: the default `end` of iteration-based schedulers. */
  maxIters?: number;
}

/** Multiplier of the base learning rate at a given global iteration (0-based). */
export type LrFactor = (iteration: number) => number;

export interface SchedulerEntry {
  /** Options besides `type`. */
  schema: Schema;
  build(options: Record<string, unknown>, ctx: SchedulerContext): LrFactor;
}

export const schedulers = new Registry<SchedulerEntry>('scheduler');

interface Span {
  begin: number;
  end: number;
  /** Position in the scheduler's own unit (epochs or iterations). */
  at(iteration: number): number;
}

function span(o: Record<string, unknown>, ctx: SchedulerContext): Span {
  const byEpoch = (o.byEpoch as boolean | undefined) ?? true;
  const total = byEpoch ? ctx.maxEpochs : (ctx.maxIters ?? ctx.maxEpochs * ctx.itersPerEpoch);
  return {
    begin: (o.begin as number | undefined) ?? 0,
    end: Math.min((o.end as number | undefined) ?? total, total),
    at: (i) => (byEpoch ? Math.floor(i / ctx.itersPerEpoch) : i),
  };
}

const common = { begin: optional(int({ min: 0 })), end: optional(int({ min: 1 })), byEpoch: optional(bool()) };

schedulers.register('LinearLR', {
  schema: obj({ ...common, startFactor: optional(num({ min: 0, max: 1 })), endFactor: optional(num({ min: 0, max: 1 })) }),
  build(o, ctx) {
    const s = span(o, ctx);
    const start = (o.startFactor as number | undefined) ?? 1 / 3;
    const end = (o.endFactor as number | undefined) ?? 1;
    return (i) => {
      const t = s.at(i);
      if (t < s.begin) return 1;
      const frac = Math.min(t - s.begin, s.end - s.begin) / (s.end - s.begin);
      return start + (end - start) * frac;
    };
  },
});

schedulers.register('MultiStepLR', {
  schema: obj({ ...common, milestones: arr(int({ min: 1 }), { minItems: 1 }), gamma: optional(num({ min: 0 })) }),
  build(o, ctx) {
    const s = span(o, ctx);
    const gamma = (o.gamma as number | undefined) ?? 0.1;
    const milestones = o.milestones as number[];
    return (i) => {
      const t = s.at(i);
      const passed = milestones.filter((m) => t >= s.begin + m && s.begin + m < s.end).length;
      return gamma ** passed;
    };
  },
});

schedulers.register('StepLR', {
  schema: obj({ ...common, stepSize: int({ min: 1 }), gamma: optional(num({ min: 0 })) }),
  build(o, ctx) {
    const s = span(o, ctx);
    const gamma = (o.gamma as number | undefined) ?? 0.1;
    const step = o.stepSize as number;
    return (i) => {
      const t = Math.min(s.at(i), s.end) - s.begin;
      return t < 0 ? 1 : gamma ** Math.floor(t / step);
    };
  },
});

schedulers.register('CosineAnnealingLR', {
  // etaMinRatio: the final rate as a fraction of the base rate (mmengine's eta_min_ratio).
  schema: obj({ ...common, etaMinRatio: optional(num({ min: 0, max: 1 })) }),
  build(o, ctx) {
    const s = span(o, ctx);
    const etaMin = (o.etaMinRatio as number | undefined) ?? 0;
    return (i) => {
      const t = Math.min(Math.max(s.at(i) - s.begin, 0), s.end - s.begin);
      return etaMin + ((1 - etaMin) * (1 + Math.cos((Math.PI * t) / (s.end - s.begin)))) / 2;
    };
  },
});

/** The learning rate at each iteration for a list of scheduler configs (`{type, ...options}`). */
export function buildLrSchedule(
  configs: readonly Record<string, unknown>[],
  baseLr: number,
  ctx: SchedulerContext,
): (iteration: number) => number {
  const factors = configs.map(({ type, ...options }) => schedulers.get(type as string).build(options, ctx));
  return (iteration) => factors.reduce((lr, f) => lr * f(iteration), baseLr);
}
