// What every backbone offers a neck, a detector and the mapping engine.
import type * as tf from '@tensorflow/tfjs-core';
import type { FeatureInfo, ParamSpec } from '../../mapping/params.js';
import type { WeightMap } from '../layers/weights.js';

export interface ForwardOptions {
  /**
   * Train mode: BatchNorm uses batch statistics (except in frozen stages or with normEval) and
   * dropout is active. Default false.
   */
  training?: boolean;
}

export interface BackboneOutput {
  /** NHWC feature maps, in the order of the backbone's outIndices. */
  features: tf.Tensor4D[];
  /** Classifier output when the backbone has a head. */
  logits?: tf.Tensor2D;
  /**
   * Train mode only: the running_mean / running_var every batch-statistics BatchNorm leaves
   * behind (PyTorch's momentum update), keyed by canonical name. To track statistics like PyTorch
   * does, `tf.keep` them inside the optimizer's closure and assign them to the running-stat
   * variables after the step; ignore them to keep the statistics fixed.
   */
  bnUpdates?: WeightMap;
}

export interface Backbone {
  specs: ParamSpec[];
  featureInfo: FeatureInfo[];
  forward(weights: WeightMap, x: tf.Tensor4D, opts?: ForwardOptions): BackboneOutput;
  initWeights(seed?: number): WeightMap;
}
