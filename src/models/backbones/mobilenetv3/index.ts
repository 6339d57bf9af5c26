// MobileNetV3 (large / small) for TF.js: parameters declared up front, forward as a pure function
// of (weights, input). Feature layers follow the `features[i]` numbering of torchvision and
// d-li14: 0 = stem, 1..15 (large) / 1..11 (small) = inverted-residual blocks, 16 / 12 = last 1x1 conv.
import * as tf from '@tensorflow/tfjs-core';
import type { FeatureInfo, ParamSpec } from '../../params.js';
import { initWeights, torchvisionInit } from '../../layers/init.js';
import { checkWeights, type WeightMap } from '../../layers/weights.js';
import type { Backbone, BackboneOutput, ForwardOptions } from '../types.js';
import { mobileNetV3Forward } from './forward.js';
import { mobileNetV3Layout, type MobileNetV3Layout } from './layout.js';
import { resolveOptions, type MobileNetV3Options, type ResolvedMobileNetV3Options } from './options.js';
import { mobileNetV3Specs } from './specs.js';
import { LARGE, SMALL } from './tables.js';

export type { MobileNetV3Options, ResolvedMobileNetV3Options } from './options.js';
export type { Family, MobileNetV3Layout, BlockLayout } from './layout.js';
export { makeDivisible, mobileNetV3Layout } from './layout.js';
export type { WeightMap } from '../../layers/weights.js';

export interface MobileNetV3 extends Backbone {
  options: ResolvedMobileNetV3Options;
  layout: MobileNetV3Layout;
  specs: ParamSpec[];
  featureInfo: FeatureInfo[];
  forward(weights: WeightMap, x: tf.Tensor4D, opts?: ForwardOptions): BackboneOutput;
  /** Fresh tensors initialised as torchvision does (seeded); the caller owns them. */
  initWeights(seed?: number): WeightMap;
}

export function createMobileNetV3(opts: MobileNetV3Options): MobileNetV3 {
  const options = resolveOptions(opts, ({ variant }) => (variant === 'large' ? LARGE : SMALL).length + 1);
  const layout = mobileNetV3Layout(options.variant, options.widthMult, options.family);
  const specs = mobileNetV3Specs(layout, options.numClasses, options.frozenStages);
  return {
    options,
    layout,
    specs,
    featureInfo: layout.featureInfo,
    forward(weights, x, fwd = {}) {
      checkWeights(specs, weights);
      return tf.tidy(() => mobileNetV3Forward(layout, options, weights, x, fwd.training ?? false) as unknown as tf.TensorContainer) as unknown as BackboneOutput;
    },
    initWeights(seed = 0) {
      // torchvision: nn.Linear layers of the classifier start from N(0, 0.01).
      return initWeights(specs, (s) => (s.name.startsWith('classifier.') && s.kind === 'dense' ? { normal: 0.01 } : torchvisionInit(s)), seed);
    },
  };
}
