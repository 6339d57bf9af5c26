// MobileNetV3 options: defaults and validation (bad values are InputErrors with exact messages).
import { InputError } from '../../../errors.js';
import type { Family } from './layout.js';
import { LARGE, SMALL } from './tables.js';

export interface MobileNetV3Options {
  variant: 'large' | 'small';
  /** Channel multiplier, default 1.0. */
  widthMult?: number;
  /**
   * Structural facts of the source layout (default 'torchvision'):
   * - expanded widths: torchvision make_divisible(exp * width, 8); d-li14 make_divisible(in * t, 8);
   * - SE in expanded blocks: torchvision dw→BN→act→SE; d-li14 dw→BN→SE→act;
   * - classifier hidden: torchvision make_divisible(1280|1024 * width, 8); d-li14 1280|1024 unless width > 1.
   */
  family?: Family;
  /** BatchNorm epsilon: default 1e-3 for torchvision, 1e-5 for d-li14 (and timm). */
  bnEps?: number;
  /** BatchNorm momentum (PyTorch convention) for bnUpdates: default 0.01 for torchvision, 0.1 for d-li14. */
  bnMomentum?: number;
  /** Dropout before the last classifier layer in train mode; default 0.2 (both sources). */
  dropout?: number;
  /** Feature layers to return (features[i] numbering), in this order; default [last layer]. */
  outIndices?: number[];
  /** Classifier head with this many classes when > 0; none when 0 (default). */
  numClasses?: number;
  /**
   * mmdetection semantics: -1 (default) freezes nothing; i >= 0 freezes features[0..i]: their
   * parameters are declared non-trainable and their BatchNorms run on running statistics.
   */
  frozenStages?: number;
  /** BatchNorm always uses running statistics, also in train mode (mmdetection's norm_eval). */
  normEval?: boolean;
}

export type ResolvedMobileNetV3Options = Required<MobileNetV3Options>;

function fail(name: string, problem: string): never {
  throw new InputError(`${name}: ${problem}`);
}

/** Index of the last feature layer (the final 1x1 conv): 16 for large, 12 for small. */
export function lastFeatureIndex({ variant }: { variant: 'large' | 'small' }): number {
  return (variant === 'large' ? LARGE : SMALL).length + 1;
}

const KNOWN: ReadonlySet<string> = new Set(['variant', 'widthMult', 'family', 'bnEps', 'bnMomentum', 'dropout', 'outIndices', 'numClasses', 'frozenStages', 'normEval']);

/** Fills defaults and checks every option; an option it does not know is refused, never ignored. */
export function resolveOptions(opts: MobileNetV3Options): ResolvedMobileNetV3Options {
  const { variant } = opts;
  if (variant !== 'large' && variant !== 'small') fail('mobilenetv3', `variant must be 'large' or 'small', got '${String(variant)}'`);
  const name = `mobilenetv3_${variant}`;
  const unknown = Object.keys(opts).filter((k) => !KNOWN.has(k));
  if (unknown.length > 0) fail(name, `unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: ${[...KNOWN].filter((k) => k !== 'variant').join(', ')})`);
  const family = opts.family ?? 'torchvision';
  if (family !== 'torchvision' && family !== 'dli14') fail(name, `family must be 'torchvision' or 'dli14', got '${String(family)}'`);
  const widthMult = opts.widthMult ?? 1.0;
  if (!(widthMult > 0) || !Number.isFinite(widthMult)) fail(name, `widthMult must be a positive number, got ${widthMult}`);
  const bnEps = opts.bnEps ?? (family === 'torchvision' ? 1e-3 : 1e-5);
  if (!(bnEps > 0)) fail(name, `bnEps must be a positive number, got ${bnEps}`);
  const bnMomentum = opts.bnMomentum ?? (family === 'torchvision' ? 0.01 : 0.1);
  if (!(bnMomentum >= 0 && bnMomentum <= 1)) fail(name, `bnMomentum must be in [0, 1], got ${bnMomentum}`);
  const dropout = opts.dropout ?? 0.2;
  if (!(dropout >= 0 && dropout < 1)) fail(name, `dropout must be in [0, 1), got ${dropout}`);
  const numClasses = opts.numClasses ?? 0;
  if (!Number.isInteger(numClasses) || numClasses < 0) fail(name, `numClasses must be a non-negative integer, got ${numClasses}`);

  const last = lastFeatureIndex({ variant });
  const outIndices = opts.outIndices ?? [last];
  const seen = new Set<number>();
  for (const i of outIndices) {
    if (!Number.isInteger(i)) fail(name, `outIndices entry ${i} is not an integer`);
    if (i < 0 || i > last) fail(name, `outIndices entry ${i} is out of range (feature layers are 0..${last})`);
    if (seen.has(i)) fail(name, `outIndices lists ${i} twice`);
    seen.add(i);
  }
  if (outIndices.length === 0 && numClasses === 0) {
    fail(name, 'outIndices is empty and there is no classifier (numClasses 0): the model would compute nothing');
  }
  const frozenStages = opts.frozenStages ?? -1;
  if (!Number.isInteger(frozenStages) || frozenStages < -1 || frozenStages > last) {
    fail(name, `frozenStages ${frozenStages} is out of range (-1 freezes nothing, 0..${last} freeze features[0..i])`);
  }
  return { variant, widthMult, family, bnEps, bnMomentum, dropout, outIndices: [...outIndices], numClasses, frozenStages, normEval: opts.normEval ?? false };
}
