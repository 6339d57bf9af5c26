// The MobileNetV3 forward pass, NHWC, computing what torchvision's / d-li14's PyTorch model computes.
import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../../../errors.js';
import { activate, hardSwish } from '../../layers/activations.js';
import { batchNormParams, type NormMode } from '../../layers/batchnorm.js';
import { convBnAct, type ConvOptions } from '../../layers/conv.js';
import type { FoldCache } from '../../layers/fold-cache.js';
import { squeezeExcite } from '../../layers/se.js';
import { weight, type WeightMap } from '../../layers/weights.js';
import type { BackboneOutput } from '../types.js';
import type { BlockLayout, MobileNetV3Layout } from './layout.js';
import type { ResolvedMobileNetV3Options } from './options.js';

/** One forward pass; collects the running statistics of batch-statistics BatchNorms. */
class Pass {
  readonly bnUpdates: WeightMap = {};

  constructor(
    private readonly weights: WeightMap,
    private readonly norm: (layer: number) => NormMode,
    private readonly cache: FoldCache,
  ) {}

  convBn(x: tf.Tensor4D, layer: number, prefix: string, opts: ConvOptions): tf.Tensor4D {
    const kernel = weight<tf.Rank.R4>(this.weights, `${prefix}.conv.weight`);
    const bn = batchNormParams(this.weights, `${prefix}.bn`);
    const { y, running } = convBnAct(x, kernel, bn, this.norm(layer), opts, { store: this.cache, key: prefix });
    if (running) {
      this.bnUpdates[`${prefix}.bn.running_mean`] = running.mean;
      this.bnUpdates[`${prefix}.bn.running_var`] = running.variance;
    }
    return y;
  }

  block(x: tf.Tensor4D, b: BlockLayout): tf.Tensor4D {
    const p = `features.${b.index}`;
    let h = x;
    if (b.expanded !== b.inChannels) h = this.convBn(h, b.index, `${p}.expand`, { stride: 1, activation: b.activation });
    const dw = { stride: b.stride, depthwise: true };
    if (b.squeeze > 0 && b.seBeforeActivation) {
      h = this.convBn(h, b.index, `${p}.dw`, { ...dw, activation: 'linear' });
      h = activate(squeezeExcite(h, this.weights, `${p}.se`), b.activation);
    } else {
      h = this.convBn(h, b.index, `${p}.dw`, { ...dw, activation: b.activation });
      if (b.squeeze > 0) h = squeezeExcite(h, this.weights, `${p}.se`);
    }
    h = this.convBn(h, b.index, `${p}.project`, { stride: 1, activation: 'linear' });
    return b.residual ? tf.add(x, h) : h;
  }

  classifier(x: tf.Tensor4D, training: boolean, dropout: number): tf.Tensor2D {
    const pooled = tf.mean(x, [1, 2]) as tf.Tensor2D;
    let h = hardSwish(
      tf.fused.matMul({ a: pooled, b: weight(this.weights, 'classifier.fc1.weight'), bias: weight(this.weights, 'classifier.fc1.bias') }),
    );
    if (training && dropout > 0) h = tf.dropout(h, dropout);
    return tf.fused.matMul({ a: h, b: weight(this.weights, 'classifier.fc2.weight'), bias: weight(this.weights, 'classifier.fc2.bias') }) as tf.Tensor2D;
  }
}

export function mobileNetV3Forward(
  layout: MobileNetV3Layout,
  options: ResolvedMobileNetV3Options,
  weights: WeightMap,
  x: tf.Tensor4D,
  training: boolean,
  cache: FoldCache,
): BackboneOutput {
  if (x.rank !== 4 || x.shape[3] !== 3 || x.dtype !== 'float32') {
    throw new InputError(`the input must be a float32 NHWC tensor [N, H, W, 3], got ${x.dtype} [${x.shape.join(', ')}]`);
  }
  const { outIndices, numClasses, frozenStages, normEval, bnEps: eps, bnMomentum: momentum } = options;
  const last = layout.blocks.length + 1;
  const batchStats = training && !normEval;
  const pass = new Pass(weights, (layer) => ({ batchStats: batchStats && layer > frozenStages, eps, momentum }), cache);
  const upTo = numClasses > 0 ? last : Math.max(...outIndices);
  const outputs = new Map<number, tf.Tensor4D>();
  let h = x;
  for (let i = 0; i <= upTo; i++) {
    if (i === 0) h = pass.convBn(h, 0, 'features.0', { stride: 2, activation: 'hardswish' });
    else if (i === last) h = pass.convBn(h, last, `features.${last}`, { stride: 1, activation: 'hardswish' });
    else h = pass.block(h, layout.blocks[i - 1]);
    outputs.set(i, h);
  }
  const result: BackboneOutput = { features: outIndices.map((i) => outputs.get(i)!) };
  if (numClasses > 0) result.logits = pass.classifier(h, training, options.dropout);
  if (batchStats) result.bnUpdates = pass.bnUpdates;
  return result;
}
