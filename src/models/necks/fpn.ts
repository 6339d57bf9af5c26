// Feature Pyramid Network as torchvision's FeaturePyramidNetwork and mmdetection's FPN compute it:
// 1x1 lateral convs, top-down nearest upsampling to the lateral's size and sum, 3x3 output convs,
// then extra levels (max-pool "pool" level, or mmdetection's stride-2 extra convs).
// Parameters: see fpn-specs.ts.
import * as tf from '@tensorflow/tfjs-core';
import type { FPNConfig } from '../faster-rcnn/config.js';
import { conv } from '../faster-rcnn/layers.js';
import { fpnLayout } from './fpn-specs.js';
import type { WeightMap } from '../layers/weights.js';
import { resizeNearest, subsample2 } from './resample.js';
import type { Neck } from './types.js';

export function createFPN(config: FPNConfig, inChannels: number[]): Neck {
  const { numIns, numOuts, numExtra, extraConvs, specs } = fpnLayout(config, inChannels);
  const out = config.outChannels;

  function forward(weights: WeightMap, inputs: tf.Tensor4D[]): tf.Tensor4D[] {
    if (inputs.length !== numIns) throw new Error(`FPN expects ${numIns} inputs, got ${inputs.length}`);
    const laterals = inputs.map((x, i) => conv(weights, `lateral.${i}`, x));
    const merged: tf.Tensor4D[] = new Array(numIns);
    merged[numIns - 1] = laterals[numIns - 1];
    for (let i = numIns - 2; i >= 0; i--) {
      const [, h, w] = laterals[i].shape;
      merged[i] = tf.add(laterals[i], resizeNearest(merged[i + 1], h, w));
    }
    const outs = merged.map((x, i) => conv(weights, `output.${i}`, x));
    for (let j = 0; j < numExtra; j++) {
      if (!extraConvs) {
        outs.push(subsample2(outs[outs.length - 1]));
        continue;
      }
      let source: tf.Tensor4D;
      if (j > 0) source = config.reluBeforeExtraConvs ? tf.relu(outs[outs.length - 1]) : outs[outs.length - 1];
      else if (config.extra === 'on_input') source = inputs[numIns - 1];
      else if (config.extra === 'on_lateral') source = merged[numIns - 1];
      else source = outs[outs.length - 1];
      outs.push(conv(weights, `extra.${j}`, source, 2));
    }
    return outs;
  }

  return { specs, numOuts, outChannels: out, forward };
}
