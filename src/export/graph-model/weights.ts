// Model weights as graph constants: a tensor of the loaded WeightMap, or values derived from it on
// the host (folded BatchNorm, reordered kernels), become Const nodes.
import * as tf from '@tensorflow/tfjs-core';
import type { WeightMap } from '../../models/layers/weights.js';
import type { GraphBuilder } from './graph.js';

export class GraphWeights {
  private readonly made = new Map<string, string>();

  constructor(
    readonly g: GraphBuilder,
    readonly weights: WeightMap,
  ) {}

  tensor(name: string): tf.Tensor {
    const t = this.weights[name];
    if (!t) throw new Error(`internal: the graph needs weight '${name}', which the model has not`);
    return t;
  }

  /**
   * A weight as a constant, optionally reshaped (e.g. a dense kernel as a 1x1 conv kernel); one
   * Const node per weight and shape, however often it is used (the RPN head runs on every level).
   */
  constant(name: string, shape?: number[]): string {
    const t = this.tensor(name);
    const key = `${name}:${(shape ?? t.shape).join(',')}`;
    let node = this.made.get(key);
    if (!node) {
      node = this.g.const(t.dataSync() as Float32Array, shape ?? t.shape, name);
      this.made.set(key, node);
    }
    return node;
  }

  /** A value computed from weights with TF.js on the host (disposed here). */
  derived(name: string, compute: () => tf.Tensor, shape?: number[]): string {
    const t = tf.tidy(compute);
    const node = this.g.const(t.dataSync() as Float32Array, shape ?? t.shape, name);
    t.dispose();
    return node;
  }
}
