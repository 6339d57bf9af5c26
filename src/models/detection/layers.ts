// The few layers the detector's own parts use, with PyTorch's padding (explicit and symmetric:
// TF's 'same' pads asymmetrically for stride 2) and parameter names `<prefix>.weight/.bias`.
import * as tf from '@tensorflow/tfjs-core';
import { weight, type WeightMap } from '../layers/weights.js';

/** Conv2d with bias on NHWC input; padding `floor(kernel/2)` on every side, as PyTorch's `padding=k//2`. */
export function conv(weights: WeightMap, prefix: string, x: tf.Tensor4D, stride = 1): tf.Tensor4D {
  const w = weight(weights, `${prefix}.weight`) as tf.Tensor4D;
  const pad = Math.floor(w.shape[0] / 2);
  return tf.add(tf.conv2d(x, w, stride, pad === 0 ? 'valid' : pad), weight(weights, `${prefix}.bias`));
}

export function dense(weights: WeightMap, prefix: string, x: tf.Tensor2D): tf.Tensor2D {
  return tf.add(tf.matMul(x, weight(weights, `${prefix}.weight`) as tf.Tensor2D), weight(weights, `${prefix}.bias`));
}
