// Convolution + BatchNorm + activation, the unit every MobileNet/ResNet-style layer is made of.
// Padding is PyTorch's: `padding` zeros on every side (k // 2 for odd kernels), never TF's 'same',
// which pads asymmetrically (bottom/right only) for stride 2 on even inputs.
// In inference the BatchNorm is folded into the kernel and bias so tfjs runs one fused kernel; a
// FoldCache keeps the folded weights between passes.
import * as tf from '@tensorflow/tfjs-core';
import { activate, splitFusable, type Activation } from './activations.js';
import { batchNormScaleShift, batchNormTrain, type BatchNormParams, type NormMode, type RunningStats } from './batchnorm.js';
import type { FoldCache, Folded } from './fold-cache.js';

export interface ConvOptions {
  stride: number;
  /** Zero padding on each side; defaults to floor(kernel / 2) like PyTorch's `padding=k // 2`. */
  padding?: number;
  /** Depthwise kernel `[kh, kw, C, 1]` instead of a regular HWIO kernel. */
  depthwise?: boolean;
  activation: Activation;
}

function convolve(x: tf.Tensor4D, kernel: tf.Tensor4D, opts: ConvOptions, bias?: tf.Tensor1D, fused: 'linear' | 'relu' = 'linear'): tf.Tensor4D {
  const pad = opts.padding ?? Math.floor(kernel.shape[0] / 2);
  // Without bias or activation the plain op is the same kernel, and its gradient is per input, so
  // autodiff skips dx where x needs none (the image under the stem); the fused op's custom
  // gradient always computes it (~30 ms per MobileNetV3 training step at 2x224).
  if (!bias && fused === 'linear') {
    return opts.depthwise ? tf.depthwiseConv2d(x, kernel, opts.stride, pad) : tf.conv2d(x, kernel, opts.stride, pad);
  }
  const args = { x, filter: kernel, strides: opts.stride, pad, bias, activation: fused };
  return opts.depthwise ? tf.fused.depthwiseConv2d(args) : tf.fused.conv2d(args);
}

/** The kernel and bias of conv followed by inference-mode BatchNorm, as one conv. */
export function foldBatchNorm(kernel: tf.Tensor4D, bn: BatchNormParams, eps: number, depthwise = false): Folded {
  const { scale, shift } = batchNormScaleShift(bn, eps);
  // HWIO scales the output channel (last axis); depthwise [kh, kw, C, 1] scales axis 2.
  return { kernel: tf.mul(kernel, depthwise ? tf.reshape(scale, [-1, 1]) : scale), bias: shift };
}

/**
 * conv → BatchNorm → activation. `running` is set when the BatchNorm used batch statistics.
 * `cache` (with a key unique to this layer) reuses folded weights between inference passes.
 */
export function convBnAct(
  x: tf.Tensor4D,
  kernel: tf.Tensor4D,
  bn: BatchNormParams,
  norm: NormMode,
  opts: ConvOptions,
  cache?: { store: FoldCache; key: string },
): { y: tf.Tensor4D; running?: RunningStats } {
  if (norm.batchStats) {
    const { y, running } = batchNormTrain(convolve(x, kernel, opts), bn, norm, cache ? `${cache.key}.bn` : undefined);
    return { y: activate(y, opts.activation), running };
  }
  const fold = () => foldBatchNorm(kernel, bn, norm.eps, opts.depthwise);
  const sources = [kernel, bn.gamma, bn.beta, bn.runningMean, bn.runningVar];
  const folded = cache ? cache.store.get(cache.key, sources, norm.eps, fold) : fold();
  const { fused, after } = splitFusable(opts.activation);
  return { y: activate(convolve(x, folded.kernel, opts, folded.bias, fused), after) };
}
