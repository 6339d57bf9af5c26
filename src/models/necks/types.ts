// The neck contract: backbone feature maps (NHWC, in outIndices order) in, pyramid levels out.
import type * as tf from '@tensorflow/tfjs-core';
import type { ParamSpec } from '../../mapping/params.js';
import type { WeightMap } from '../layers/weights.js';

export interface Neck {
  /** Parameter specs, named relative to the neck (the detector adds `neck.`). */
  specs: ParamSpec[];
  /** Number of output levels. */
  numOuts: number;
  outChannels: number;
  forward(weights: WeightMap, inputs: tf.Tensor4D[]): tf.Tensor4D[];
}

/** Builds a neck from its config and the channels of the backbone outputs it receives. */
export type NeckBuilder<C = unknown> = (config: C, inChannels: number[]) => Neck;
