// Resolves a variant + width + family into concrete channel counts for every layer, following the
// source's own rounding so parameter shapes match its checkpoints exactly.
import type { FeatureInfo } from '../../../mapping/params.js';
import type { Activation } from '../../layers/activations.js';
import { CLASSIFIER_HIDDEN, LARGE, SMALL, STEM_CHANNELS } from './tables.js';

export type Family = 'torchvision' | 'dli14';

/**
 * The TF-slim rounding shared by torchvision and d-li14: nearest multiple of `divisor`, at least
 * `divisor`, and never more than 10% below `value`.
 */
export function makeDivisible(value: number, divisor = 8): number {
  let rounded = Math.max(divisor, Math.floor(Math.trunc(value + divisor / 2) / divisor) * divisor);
  if (rounded < 0.9 * value) rounded += divisor;
  return rounded;
}

export interface BlockLayout {
  index: number;
  kernel: number;
  stride: number;
  inChannels: number;
  expanded: number;
  outChannels: number;
  /** Squeeze width of the SE block; 0 when the block has none. */
  squeeze: number;
  activation: Activation;
  /** d-li14 applies SE between the depthwise BN and its activation in expanded blocks. */
  seBeforeActivation: boolean;
  residual: boolean;
}

export interface MobileNetV3Layout {
  stemChannels: number;
  blocks: BlockLayout[];
  lastChannels: number;
  classifierHidden: number;
  featureInfo: FeatureInfo[];
}

export function mobileNetV3Layout(variant: 'large' | 'small', widthMult: number, family: Family): MobileNetV3Layout {
  const rows = variant === 'large' ? LARGE : SMALL;
  const stemChannels = makeDivisible(STEM_CHANNELS * widthMult);
  const featureInfo: FeatureInfo[] = [{ index: 0, stride: 2, channels: stemChannels }];
  const blocks: BlockLayout[] = [];
  let inChannels = stemChannels;
  let stride = 2;
  rows.forEach((r, i) => {
    const outChannels = makeDivisible(r.out * widthMult);
    // torchvision scales the table's absolute width; d-li14 multiplies the rounded input width.
    const expanded = family === 'torchvision' ? makeDivisible(r.expanded * widthMult) : makeDivisible(inChannels * r.ratio);
    blocks.push({
      index: i + 1,
      kernel: r.kernel,
      stride: r.stride,
      inChannels,
      expanded,
      outChannels,
      squeeze: r.se ? makeDivisible(Math.floor(expanded / 4)) : 0,
      activation: r.activation,
      seBeforeActivation: family === 'dli14' && expanded !== inChannels,
      residual: r.stride === 1 && inChannels === outChannels,
    });
    stride *= r.stride;
    featureInfo.push({ index: i + 1, stride, channels: outChannels });
    inChannels = outChannels;
  });
  // torchvision: 6x the last block's output; d-li14: the last block's expanded width (equal, as
  // the last block expands 6x a multiple of 8).
  const lastChannels = family === 'torchvision' ? 6 * inChannels : blocks[blocks.length - 1].expanded;
  featureInfo.push({ index: blocks.length + 1, stride, channels: lastChannels });
  const hidden = CLASSIFIER_HIDDEN[variant];
  const classifierHidden = family === 'torchvision' || widthMult > 1 ? makeDivisible(hidden * widthMult) : hidden;
  return { stemChannels, blocks, lastChannels, classifierHidden, featureInfo };
}
