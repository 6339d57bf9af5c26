// Fresh weights following torchvision's initialisation of conv/BN/linear layers.
import * as tf from '@tensorflow/tfjs-core';
import type { ParamSpec } from '../../mapping/params.js';
import type { WeightMap } from './weights.js';

/** How one tensor starts out: N(0, std), U(-bound, bound), or a constant. */
export type InitRule = { normal: number } | { uniform: number } | 'zeros' | 'ones';

/**
 * torchvision's rule for a spec: kaiming-normal (fan_out) for conv/depthwise kernels and 1x1-conv
 * style dense layers, BatchNorm gamma = 1, beta = 0, running mean 0 / var 1, biases 0.
 * Dense kernels: fan_out = out features (torchvision's SE uses 1x1 convs).
 */
export function torchvisionInit(spec: ParamSpec): InitRule {
  if (spec.kind === 'vector') return /\.(bn\.weight|running_var)$/.test(spec.name) ? 'ones' : 'zeros';
  return { normal: Math.sqrt(2 / fanOut(spec)) };
}

/** PyTorch's fan-in of a weight in TF.js layout: input channels (or features) times the kernel area. */
export function fanIn(spec: ParamSpec): number {
  const [kh, kw, cin] = spec.shape;
  return spec.kind === 'dense' ? spec.shape[0] : spec.kind === 'depthwise' ? kh * kw : kh * kw * cin;
}

/** PyTorch's fan-out: output channels (or features) times the kernel area. */
export function fanOut(spec: ParamSpec): number {
  const [kh, kw, cin, cout] = spec.shape;
  return spec.kind === 'dense' ? spec.shape[1] : spec.kind === 'depthwise' ? kh * kw * cin : kh * kw * cout;
}

/** New tensors for `specs`; seeded draws (seed + position in specs), so reruns are identical. */
export function initWeights(specs: readonly ParamSpec[], rule: (spec: ParamSpec) => InitRule, seed = 0): WeightMap {
  const out: WeightMap = {};
  specs.forEach((spec, i) => {
    const r = rule(spec);
    out[spec.name] =
      r === 'zeros' ? tf.zeros(spec.shape)
      : r === 'ones' ? tf.ones(spec.shape)
      : 'uniform' in r ? tf.randomUniform(spec.shape, -r.uniform, r.uniform, 'float32', seed + i)
      : tf.randomNormal(spec.shape, 0, r.normal, 'float32', seed + i);
  });
  return out;
}
