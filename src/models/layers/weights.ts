// Weights travel as a plain map from canonical parameter name to tensor, so a model is a pure
// function of (weights, input): the mapping engine fills the map, a trainer swaps in tf.Variables.
import type * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../../errors.js';
import type { ParamSpec } from '../../mapping/params.js';

/** Canonical parameter name → tensor in TF.js layout (a tf.Variable is a tf.Tensor too). */
export interface WeightMap {
  [canonicalName: string]: tf.Tensor;
}

/** The tensor for `name`, or an InputError naming it. */
export function weight<R extends tf.Rank>(weights: WeightMap, name: string): tf.Tensor<R> {
  const t = weights[name];
  if (t === undefined) throw new InputError(`the weights have no '${name}' (the model needs every declared parameter)`);
  return t as tf.Tensor<R>;
}

/** Checks that `weights` holds every spec'd tensor with the spec'd shape. */
export function checkWeights(specs: readonly ParamSpec[], weights: WeightMap): void {
  for (const spec of specs) {
    const t = weight(weights, spec.name);
    if (t.shape.length !== spec.shape.length || t.shape.some((d, i) => d !== spec.shape[i])) {
      throw new InputError(`'${spec.name}' has shape [${t.shape.join(', ')}], the model needs [${spec.shape.join(', ')}]`);
    }
    if (t.dtype !== 'float32') throw new InputError(`'${spec.name}' is ${t.dtype}, the model needs float32`);
  }
}
