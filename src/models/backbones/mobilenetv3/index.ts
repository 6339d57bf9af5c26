// MobileNetV3 (large / small) for TF.js: parameters declared up front, forward as a pure function
// of (weights, input). Feature layers follow the `features[i]` numbering of torchvision and
// d-li14: 0 = stem, 1..15 (large) / 1..11 (small) = inverted-residual blocks, 16 / 12 = last 1x1 conv.
import * as tf from '@tensorflow/tfjs-core';
import type { FeatureInfo, ParamSpec } from '../../../mapping/params.js';
import { initWeights, torchvisionInit } from '../../layers/init.js';
import { checkWeights, type WeightMap } from '../../layers/weights.js';
import { FoldCache } from '../../layers/fold-cache.js';
import type { Backbone, BackboneOutput, ForwardOptions } from '../types.js';
import { describeMobileNetV3 } from './describe.js';
import { mobileNetV3Forward } from './forward.js';
import type { MobileNetV3Layout } from './layout.js';
import type { MobileNetV3Options, ResolvedMobileNetV3Options } from './options.js';

export type { MobileNetV3Options, ResolvedMobileNetV3Options } from './options.js';
export type { Family, MobileNetV3Layout, BlockLayout } from './layout.js';
export { makeDivisible, mobileNetV3Layout } from './layout.js';
export { lastFeatureIndex } from './options.js';
export { describeMobileNetV3, type MobileNetV3Description } from './describe.js';
export { frozenStagesFromTrainableLayers } from './trainable-layers.js';
export type { WeightMap } from '../../layers/weights.js';

export interface MobileNetV3 extends Backbone {
  options: ResolvedMobileNetV3Options;
  layout: MobileNetV3Layout;
  specs: ParamSpec[];
  featureInfo: FeatureInfo[];
  forward(weights: WeightMap, x: tf.Tensor4D, opts?: ForwardOptions): BackboneOutput;
  /** Fresh tensors initialised as torchvision does (seeded); the caller owns them. */
  initWeights(seed?: number): WeightMap;
  /**
   * Frees the folded conv+BN weights inference keeps between calls (one copy of the conv weights;
   * rebuilt on the next inference forward). Call when done with the model or its weights.
   */
  releaseCache(): void;
}

// Frees a model's cached folded weights when the model object itself is garbage-collected.
const finalizer = new FinalizationRegistry<FoldCache>((cache) => cache.clear());

export function createMobileNetV3(opts: MobileNetV3Options): MobileNetV3 {
  const { options, layout, specs, featureInfo } = describeMobileNetV3(opts);
  const cache = new FoldCache();
  const model: MobileNetV3 = {
    options,
    layout,
    specs,
    featureInfo,
    forward(weights, x, fwd = {}) {
      checkWeights(specs, weights);
      const run = () => mobileNetV3Forward(layout, options, weights, x, fwd.training ?? false, cache);
      return tf.tidy(run as unknown as () => tf.TensorContainerObject) as unknown as BackboneOutput;
    },
    initWeights(seed = 0) {
      // Both families: convs kaiming-normal (fan_out), BN 1/0, nn.Linear N(0, 0.01) with zero bias
      // (d-li14's _initialize_weights draws N(0, sqrt(2/n)), n = k*k*out: the same). The
      // classifier is nn.Linear in both; the SE layers are nn.Linear only in d-li14's (1x1 convs in
      // torchvision's).
      const linear = (s: ParamSpec) => s.kind === 'dense' && (s.name.startsWith('classifier.') || (options.family === 'dli14' && s.name.includes('.se.')));
      return initWeights(specs, (s) => (linear(s) ? { normal: 0.01 } : torchvisionInit(s)), seed);
    },
    releaseCache: () => cache.clear(),
  };
  finalizer.register(model, cache);
  return model;
}
