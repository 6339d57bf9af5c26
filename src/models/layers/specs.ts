// Parameter declarations for the building blocks, in PyTorch's registration order.
import type { ParamSpec } from '../../mapping/params.js';

export function batchNormSpecs(prefix: string, channels: number): ParamSpec[] {
  return [
    { name: `${prefix}.weight`, shape: [channels], kind: 'vector', trainable: true },
    { name: `${prefix}.bias`, shape: [channels], kind: 'vector', trainable: true },
    { name: `${prefix}.running_mean`, shape: [channels], kind: 'vector', trainable: false },
    { name: `${prefix}.running_var`, shape: [channels], kind: 'vector', trainable: false },
  ];
}

/** `{prefix}.conv.weight` (no bias) + `{prefix}.bn.*`. */
export function convBnSpecs(prefix: string, kernel: number, inChannels: number, outChannels: number, depthwise = false): ParamSpec[] {
  const conv: ParamSpec = depthwise
    ? { name: `${prefix}.conv.weight`, shape: [kernel, kernel, inChannels, 1], kind: 'depthwise', trainable: true }
    : { name: `${prefix}.conv.weight`, shape: [kernel, kernel, inChannels, outChannels], kind: 'conv2d', trainable: true };
  return [conv, ...batchNormSpecs(`${prefix}.bn`, outChannels)];
}

/** `{prefix}.weight` [in, out] + `{prefix}.bias` [out]. */
export function denseSpecs(prefix: string, inFeatures: number, outFeatures: number): ParamSpec[] {
  return [
    { name: `${prefix}.weight`, shape: [inFeatures, outFeatures], kind: 'dense', trainable: true },
    { name: `${prefix}.bias`, shape: [outFeatures], kind: 'vector', trainable: true },
  ];
}

/** SE block: `{prefix}.fc1` [C, S] and `{prefix}.fc2` [S, C]. */
export function squeezeExciteSpecs(prefix: string, channels: number, squeezeChannels: number): ParamSpec[] {
  return [...denseSpecs(`${prefix}.fc1`, channels, squeezeChannels), ...denseSpecs(`${prefix}.fc2`, squeezeChannels, channels)];
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
