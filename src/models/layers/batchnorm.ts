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


/**
 * Per-channel sum over N, H, W in three stages (W, then H, then N). One flat float32 sum over the
 * N*H*W values of a map at stride 2 (8192 at batch 2 and 128 px) loses ~1e-3 of a gradient whose
 * terms nearly cancel (BatchNorm's dbeta, dgamma); staged, the error grows with W + H + N instead.
 */
function channelSum(x: tf.Tensor4D): tf.Tensor1D {
  return tf.sum(tf.sum(tf.sum(x, 2), 1), 0) as tf.Tensor1D;
}

/** Batch mean and biased variance per channel, with staged sums (see channelSum). */
function channelMoments(x: tf.Tensor4D): { mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const count = x.shape[0] * x.shape[1] * x.shape[2];
  const mean = tf.div(channelSum(x), count) as tf.Tensor1D;
  const centred = tf.sub(x, mean) as tf.Tensor4D;
  return { mean, variance: tf.div(channelSum(tf.mul(centred, centred) as tf.Tensor4D), count) as tf.Tensor1D };
}

/**
 * Batch-statistics normalisation with an analytic backward (as PyTorch's BatchNorm backward):
 *   dx = scale * (dy - mean(dy) - xhat * mean(dy * xhat)),  dgamma = sum(dy * xhat),  dbeta = sum(dy),
 * about half the full-size passes of differentiating through the moments. The batch mean and
 * variance are handed out through `stats` (kept tensors: the caller disposes them).
 */
function normalizeWithBatchStats(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number, stats: { mean?: tf.Tensor1D; variance?: tf.Tensor1D }): tf.Tensor4D {
  const op = tf.customGrad((xIn, gammaIn, betaIn, save) => {
    const [xt, g, b] = [xIn as tf.Tensor4D, gammaIn as tf.Tensor1D, betaIn as tf.Tensor1D];
    const { mean, variance } = channelMoments(xt);
    const invStd = tf.rsqrt(tf.add(variance, eps));
    const scale = tf.mul(g, invStd);
    // x * scale + shift, the form PyTorch's CPU kernel uses too.
    const value = tf.add(tf.mul(xt, scale), tf.sub(b, tf.mul(mean, scale))) as tf.Tensor4D;
    (save as tf.GradSaveFunc)([xt, mean, invStd, scale]);
    stats.mean = tf.keep(mean as tf.Tensor1D);
    stats.variance = tf.keep(variance as tf.Tensor1D);
    return {
      value,
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const [xs, mu, inv, sc] = saved;
        const count = xs.shape[0]! * xs.shape[1]! * xs.shape[2]!;
        const xhat = tf.mul(tf.sub(xs, mu), inv);
        const dbeta = channelSum(dy);
        const dgamma = channelSum(tf.mul(dy, xhat) as tf.Tensor4D);
        const dx = tf.add(tf.add(tf.mul(dy, sc), tf.mul(xhat, tf.mul(sc, tf.div(dgamma, -count)))), tf.mul(sc, tf.div(dbeta, -count)));
        return [dx, dgamma, dbeta];
      },
    };
  });
  return op(x, gamma, beta);
}

/**
 * Train-mode BatchNorm over N, H, W of an NHWC tensor, with the updated running statistics.
 * `layer` names the BatchNorm in the error PyTorch also raises for a single value per channel.
 */
export function batchNormTrain(x: tf.Tensor4D, p: BatchNormParams, mode: NormMode, layer = 'BatchNorm'): { y: tf.Tensor4D; running: RunningStats } {
  const n = x.shape[0] * x.shape[1] * x.shape[2];
  if (n < 2) {
    throw new InputError(
      `${layer}: train-mode BatchNorm needs more than 1 value per channel, got input shape [${x.shape.join(', ')}] (NHWC); ` +
        'use larger images or batches, or set model.backbone.normEval: true to keep running statistics',
    );
  }
  const stats: { mean?: tf.Tensor1D; variance?: tf.Tensor1D } = {};
  const y = normalizeWithBatchStats(x, p.gamma, p.beta, mode.eps, stats);
  const m = mode.momentum;
  const running = {
    mean: tf.add(tf.mul(p.runningMean, 1 - m), tf.mul(stats.mean!, m)) as tf.Tensor1D,
    variance: tf.add(tf.mul(p.runningVar, 1 - m), tf.mul(stats.variance!, (m * n) / (n - 1))) as tf.Tensor1D,
  };
  tf.dispose([stats.mean!, stats.variance!]);
  return { y, running };
}
