// Activations with PyTorch's exact definitions (torch.nn.Hardswish / Hardsigmoid, d-li14's
// h_swish / h_sigmoid): hard-sigmoid(x) = relu6(x + 3) / 6, hard-swish(x) = x * hard-sigmoid(x)
// (one kernel each where torchport registers one: src/backend/ops/hard-activations.ts).
import * as tf from '@tensorflow/tfjs-core';
import { hardSigmoid, hardSwish } from '../../backend/ops/hard-activations.js';

export { hardSigmoid, hardSwish };

export type Activation = 'linear' | 'relu' | 'hardswish';

export function activate<T extends tf.Tensor>(x: T, activation: Activation): T {
  switch (activation) {
    case 'linear':
      return x;
    case 'relu':
      return tf.relu(x);
    case 'hardswish':
      return hardSwish(x);
  }
}

/** The part of an activation tfjs can fuse into a conv/matmul kernel ('relu'), and what is left. */
export function splitFusable(activation: Activation): { fused: 'linear' | 'relu'; after: Activation } {
  return activation === 'relu' ? { fused: 'relu', after: 'linear' } : { fused: 'linear', after: activation };
}
