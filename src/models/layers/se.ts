// Squeeze-and-excitation (MobileNetV3 style): global average pool → dense + ReLU → dense →
// hard-sigmoid → channel-wise scale. Whether the source used nn.Linear or 1x1 convs does not
// matter here: both are `dense` [in, out] kernels after conversion.
import * as tf from '@tensorflow/tfjs-core';
import { hardSigmoid } from './activations.js';
import { weight, type WeightMap } from './weights.js';

export function squeezeExcite(x: tf.Tensor4D, weights: WeightMap, prefix: string): tf.Tensor4D {
  const [n, , , c] = x.shape;
  const pooled = tf.mean(x, [1, 2]) as tf.Tensor2D;
  const hidden = tf.fused.matMul({
    a: pooled,
    b: weight(weights, `${prefix}.fc1.weight`),
    bias: weight(weights, `${prefix}.fc1.bias`),
    activation: 'relu',
  });
  const gate = tf.fused.matMul({ a: hidden, b: weight(weights, `${prefix}.fc2.weight`), bias: weight(weights, `${prefix}.fc2.bias`) });
  return tf.mul(x, tf.reshape(hardSigmoid(gate), [n, 1, 1, c]));
}
