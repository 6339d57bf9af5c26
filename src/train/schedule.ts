// Learning-rate schedules with mmcv's LrUpdaterHook semantics: a regular schedule (fixed, step,
// cosine), evaluated per epoch or per iteration, multiplied during warm-up by a linear factor that
// rises from `ratio` to 1 over `iters` iterations (mmdet's warmup='linear', warmup_ratio,
// warmup_iters; the same as torch's LinearLR(start_factor=ratio, total_iters=iters)).

export interface Warmup {
  type: 'linear';
  iters: number;
  ratio: number;
}

export type RegularSchedule =
  | { policy: 'fixed' }
  /** lr · gamma^(number of milestones ≤ progress), like MultiStepLR. */
  | { policy: 'step'; milestones: number[]; gamma?: number }
  /** Half-cosine from the base lr to `minLr` over the whole run, like CosineAnnealingLR. */
  | { policy: 'cosine'; minLr?: number; minLrRatio?: number };

export type LrScheduleConfig = RegularSchedule & {
  /** Progress counted in epochs (mmcv's default) or in iterations. */
  byEpoch?: boolean;
  warmup?: Warmup;
};

export interface ScheduleContext {
  baseLr: number;
  itersPerEpoch: number;
  maxEpochs: number;
}

export type LrSchedule = (iteration: number) => number;

/** Returns the learning rate of global iteration `iteration` (0-based). */
export function makeLrSchedule(config: LrScheduleConfig, ctx: ScheduleContext): LrSchedule {
  const byEpoch = config.byEpoch ?? true;
  const maxProgress = byEpoch ? ctx.maxEpochs : ctx.maxEpochs * ctx.itersPerEpoch;
  const regular = (progress: number): number => {
    switch (config.policy) {
      case 'fixed':
        return ctx.baseLr;
      case 'step': {
        const passed = config.milestones.filter((m) => progress >= m).length;
        return ctx.baseLr * (config.gamma ?? 0.1) ** passed;
      }
      case 'cosine': {
        const target = config.minLr ?? ctx.baseLr * (config.minLrRatio ?? 0);
        return target + 0.5 * (ctx.baseLr - target) * (1 + Math.cos((Math.PI * progress) / maxProgress));
      }
    }
  };
  const warmup = config.warmup;
  return (iteration) => {
    const lr = regular(byEpoch ? Math.floor(iteration / ctx.itersPerEpoch) : iteration);
    if (!warmup || iteration >= warmup.iters) return lr;
    return lr * (warmup.ratio + ((1 - warmup.ratio) * iteration) / warmup.iters);
  };
}
