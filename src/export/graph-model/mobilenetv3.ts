// MobileNetV3 as a graph: the same layers as src/models/backbones/mobilenetv3/forward.ts in eval
// mode, BatchNorm folded into each conv exactly as torchport's inference folds it, SE with 1x1
// convs, hard-swish and hard-sigmoid from Relu6.
import type { MobileNetV3 } from '../../models/backbones/mobilenetv3/index.js';
import type { BlockLayout } from '../../models/backbones/mobilenetv3/layout.js';
import type { Activation } from '../../models/layers/activations.js';
import { batchNormParams } from '../../models/layers/batchnorm.js';
import { foldBatchNorm } from '../../models/layers/conv.js';
import type * as tf from '@tensorflow/tfjs-core';
import type { Ops } from './ops.js';
import type { GraphWeights } from './weights.js';

export interface BackboneGraph {
  /** NHWC outputs of the requested feature layers, in the order asked. */
  features: string[];
  logits?: string;
}

export function mobileNetV3Graph(o: Ops, w: GraphWeights, net: MobileNetV3, x: string, outIndices: number[], withClassifier: boolean): BackboneGraph {
  const { layout, options } = net;
  const eps = options.bnEps;

  const convBn = (h: string, prefix: string, stride: number, activation: Activation, depthwise = false): string =>
    o.g.scope(prefix, () => {
      const kernel = w.tensor(`${prefix}.conv.weight`) as tf.Tensor4D;
      const bn = batchNormParams(w.weights, `${prefix}.bn`);
      const k = w.derived(`${prefix}.kernel`, () => foldBatchNorm(kernel, bn, eps, depthwise).kernel);
      const b = w.derived(`${prefix}.bias`, () => foldBatchNorm(kernel, bn, eps, depthwise).bias);
      const y = o.conv(h, k, { stride, pad: Math.floor(kernel.shape[0] / 2), depthwise, bias: b, relu: activation === 'relu' });
      return activation === 'hardswish' ? o.hardSwish(y) : y;
    });

  const squeezeExcite = (h: string, prefix: string): string =>
    o.g.scope(prefix, () => {
      const [cin, s] = w.tensor(`${prefix}.fc1.weight`).shape;
      const pooled = o.mean(h, [1, 2], true);
      const hidden = o.conv(pooled, w.constant(`${prefix}.fc1.weight`, [1, 1, cin, s]), { stride: 1, pad: 0, bias: w.constant(`${prefix}.fc1.bias`), relu: true });
      const gate = o.conv(hidden, w.constant(`${prefix}.fc2.weight`, [1, 1, s, cin]), { stride: 1, pad: 0, bias: w.constant(`${prefix}.fc2.bias`) });
      return o.mul(h, o.hardSigmoid(gate));
    });

  const activate = (h: string, a: Activation) => (a === 'relu' ? o.relu(h) : a === 'hardswish' ? o.hardSwish(h) : h);

  const block = (x0: string, b: BlockLayout): string => {
    const p = `features.${b.index}`;
    let h = x0;
    if (b.expanded !== b.inChannels) h = convBn(h, `${p}.expand`, 1, b.activation);
    if (b.squeeze > 0 && b.seBeforeActivation) {
      h = activate(squeezeExcite(convBn(h, `${p}.dw`, b.stride, 'linear', true), `${p}.se`), b.activation);
    } else {
      h = convBn(h, `${p}.dw`, b.stride, b.activation, true);
      if (b.squeeze > 0) h = squeezeExcite(h, `${p}.se`);
    }
    h = convBn(h, `${p}.project`, 1, 'linear');
    return b.residual ? o.add(x0, h) : h;
  };

  const last = layout.blocks.length + 1;
  const upTo = withClassifier ? last : Math.max(...outIndices);
  const outputs = new Map<number, string>();
  let h = x;
  for (let i = 0; i <= upTo; i++) {
    if (i === 0) h = convBn(h, 'features.0', 2, 'hardswish');
    else if (i === last) h = convBn(h, `features.${last}`, 1, 'hardswish');
    else h = block(h, layout.blocks[i - 1]);
    outputs.set(i, h);
  }
  const result: BackboneGraph = { features: outIndices.map((i) => outputs.get(i)!) };
  if (withClassifier) {
    result.logits = o.g.scope('classifier', () => {
      const pooled = o.mean(h, [1, 2], false);
      const hidden = o.hardSwish(o.dense(pooled, w.constant('classifier.fc1.weight'), w.constant('classifier.fc1.bias')));
      return o.dense(hidden, w.constant('classifier.fc2.weight'), w.constant('classifier.fc2.bias'));
    });
  }
  return result;
}
