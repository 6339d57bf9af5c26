// The few layers the detector's own parts use, with PyTorch's padding (explicit and symmetric:
// TF's 'same' pads asymmetrically for stride 2) and parameter names `<prefix>.weight/.bias`.
// Bias and ReLU are fused into the conv / matMul (fewer kernels; gradients still flow).
import * as tf from '@tensorflow/tfjs-core';
import { weight, type WeightMap } from '../layers/weights.js';

/** Conv2d with bias on NHWC input; padding `floor(kernel/2)` on every side, as PyTorch's `padding=k//2`. */
export function conv(weights: WeightMap, prefix: string, x: tf.Tensor4D, stride = 1, activation: 'linear' | 'relu' = 'linear'): tf.Tensor4D {
  const filter = weight<tf.Rank.R4>(weights, `${prefix}.weight`);
  const pad = Math.floor(filter.shape[0] / 2);
  return tf.fused.conv2d({ x, filter, strides: stride, pad: pad === 0 ? 'valid' : pad, bias: weight(weights, `${prefix}.bias`), activation });
}

export function dense(weights: WeightMap, prefix: string, x: tf.Tensor2D, activation: 'linear' | 'relu' = 'linear'): tf.Tensor2D {
  return tf.fused.matMul({ a: x, b: weight<tf.Rank.R2>(weights, `${prefix}.weight`), bias: weight(weights, `${prefix}.bias`), activation }) as tf.Tensor2D;
}
