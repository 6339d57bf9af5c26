// Fresh weights following torchvision's initialisation of conv/BN/linear layers.
import * as tf from '@tensorflow/tfjs-core';
import type { ParamSpec } from '../params.js';
import type { WeightMap } from './weights.js';

/** How one tensor starts out. */
export type InitRule = { normal: number } | 'zeros' | 'ones';

/**
 * torchvision's rule for a spec: kaiming-normal (fan_out) for conv/depthwise kernels and 1x1-conv
 * style dense layers, BatchNorm gamma = 1, beta = 0, running mean 0 / var 1, biases 0.
 * Dense kernels: fan_out = out features (torchvision's SE uses 1x1 convs).
 */
export function torchvisionInit(spec: ParamSpec): InitRule {
  const [kh, kw, cin, cout] = spec.shape;
  switch (spec.kind) {
    case 'conv2d':
      return { normal: Math.sqrt(2 / (kh * kw * cout)) };
    case 'depthwise':
      return { normal: Math.sqrt(2 / (kh * kw * cin)) };
    case 'dense':
      return { normal: Math.sqrt(2 / spec.shape[1]) };
    case 'vector':
      return /\.(bn\.weight|running_var)$/.test(spec.name) ? 'ones' : 'zeros';
  }
}

/** New tensors for `specs`; seeded normals (seed + position in specs), so reruns are identical. */
export function initWeights(specs: readonly ParamSpec[], rule: (spec: ParamSpec) => InitRule, seed = 0): WeightMap {
  const out: WeightMap = {};
  specs.forEach((spec, i) => {
    const r = rule(spec);
    out[spec.name] =
      r === 'zeros' ? tf.zeros(spec.shape) : r === 'ones' ? tf.ones(spec.shape) : tf.randomNormal(spec.shape, 0, r.normal, 'float32', seed + i);
  });
  return out;
}
