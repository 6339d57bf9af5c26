// Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_(params, maxNorm) (norm 2):
// every gradient is multiplied by min(1, maxNorm / (totalNorm + 1e-6)).
import * as tf from '@tensorflow/tfjs-core';

export interface Clipped {
  grads: Record<string, tf.Tensor>;
  /** The global norm before clipping. */
  norm: tf.Scalar;
}

/** Returns new gradient tensors (the caller disposes them and the inputs) and the global norm. */
export function clipByGlobalNorm(grads: Record<string, tf.Tensor>, maxNorm: number): Clipped {
  return tf.tidy(() => {
    const names = Object.keys(grads);
    const squares = names.map((n) => tf.sum(tf.square(grads[n])));
    const norm = tf.sqrt(tf.addN(squares)) as tf.Scalar;
    const coef = tf.minimum(tf.div(maxNorm, tf.add(norm, 1e-6)), 1);
    const out: Record<string, tf.Tensor> = {};
    for (const n of names) out[n] = tf.mul(grads[n], coef);
    return { grads: out, norm };
  });
}
