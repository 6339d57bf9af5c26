// BatchNorm2d as PyTorch computes it, NHWC. Inference: running statistics, applied as a per-channel
// scale and shift (so it can be folded into the preceding convolution). Training: batch statistics
// (biased variance to normalise, unbiased variance for the running estimate, as torch does).
import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../../errors.js';
import { weight, type WeightMap } from './weights.js';

export interface BatchNormParams {
  gamma: tf.Tensor1D;
  beta: tf.Tensor1D;
  runningMean: tf.Tensor1D;
  runningVar: tf.Tensor1D;
}

/** How a BatchNorm layer runs in one forward pass. */
export interface NormMode {
  /** Normalise with batch statistics (train mode) instead of the running ones. */
  batchStats: boolean;
  eps: number;
  /** PyTorch's momentum: running = (1 - momentum) * running + momentum * batch. */
  momentum: number;
}

/** The running statistics a train-mode BatchNorm leaves behind. */
export interface RunningStats {
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/** `{prefix}.weight/.bias/.running_mean/.running_var` from a weight map. */
export function batchNormParams(weights: WeightMap, prefix: string): BatchNormParams {
  return {
    gamma: weight(weights, `${prefix}.weight`),
    beta: weight(weights, `${prefix}.bias`),
    runningMean: weight(weights, `${prefix}.running_mean`),
    runningVar: weight(weights, `${prefix}.running_var`),
  };
}

/** Inference BatchNorm as y = x * scale + shift. */
export function batchNormScaleShift(p: BatchNormParams, eps: number): { scale: tf.Tensor1D; shift: tf.Tensor1D } {
  const scale = tf.mul(p.gamma, tf.rsqrt(tf.add(p.runningVar, eps))) as tf.Tensor1D;
  const shift = tf.sub(p.beta, tf.mul(p.runningMean, scale)) as tf.Tensor1D;
  return { scale, shift };
}

/** Train-mode BatchNorm over N, H, W of an NHWC tensor, with the updated running statistics. */
export function batchNormTrain(x: tf.Tensor4D, p: BatchNormParams, mode: NormMode): { y: tf.Tensor4D; running: RunningStats } {
  const n = x.shape[0] * x.shape[1] * x.shape[2];
  if (n < 2) throw new InputError(`train-mode BatchNorm needs more than 1 value per channel, got input shape [${x.shape.join(', ')}]`);
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  // x * scale + shift, the form PyTorch's CPU kernel uses too: two passes over x instead of three.
  const scale = tf.mul(p.gamma, tf.rsqrt(tf.add(variance, mode.eps)));
  const y = tf.add(tf.mul(x, scale), tf.sub(p.beta, tf.mul(mean, scale))) as tf.Tensor4D;
  const unbiased = tf.mul(variance, n / (n - 1));
  const m = mode.momentum;
  const running = {
    mean: tf.add(tf.mul(p.runningMean, 1 - m), tf.mul(mean, m)) as tf.Tensor1D,
    variance: tf.add(tf.mul(p.runningVar, 1 - m), tf.mul(unbiased, m)) as tf.Tensor1D,
  };
  return { y, running };
}
