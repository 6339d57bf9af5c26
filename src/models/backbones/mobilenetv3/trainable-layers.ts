// torchvision's detection backbones say how much to train with `trainable_layers` (counted in
// stages from the top, `_mobilenet_extractor`); torchport says what to freeze with frozenStages.
import { InputError } from '../../../errors.js';
import { LARGE, SMALL } from './tables.js';

/**
 * The frozenStages equivalent of torchvision's `trainable_layers` for a MobileNetV3 backbone.
 * Stages start at the stem, at every stride-2 block and at the last conv (large: 0, 2, 4, 7, 13, 16);
 * `trainable_layers = t` trains the last t stages, 0 freezes everything. (torchvision also uses
 * FrozenBatchNorm2d for pretrained backbones: pair this with normEval.)
 */
export function frozenStagesFromTrainableLayers(variant: 'large' | 'small', trainableLayers: number): number {
  const rows = variant === 'large' ? LARGE : SMALL;
  const last = rows.length + 1;
  const stages = [0, ...rows.flatMap((r, i) => (r.stride > 1 ? [i + 1] : [])), last];
  if (!Number.isInteger(trainableLayers) || trainableLayers < 0 || trainableLayers > stages.length) {
    throw new InputError(`mobilenetv3_${variant}: trainableLayers must be an integer in [0, ${stages.length}], got ${trainableLayers}`);
  }
  return trainableLayers === 0 ? last : stages[stages.length - trainableLayers] - 1;
}
