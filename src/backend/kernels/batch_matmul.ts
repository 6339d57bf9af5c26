// wasm's BatchMatMul with transposeA/transposeB leaves XNNPACK for a slow path (measured 15-50x
// slower than transposing explicitly first); tfjs's own matMul gradient uses exactly those flags.
// This wrapper transposes explicitly, then runs the stock kernel on plain operands.
import * as tf from '@tensorflow/tfjs-core';
import { wrapInputs } from './composite.js';

function swapLastTwo(t: tf.Tensor): tf.Tensor {
  const perm = [...Array(t.rank).keys()];
  [perm[t.rank - 2], perm[t.rank - 1]] = [perm[t.rank - 1], perm[t.rank - 2]];
  return tf.transpose(t, perm);
}

export function explicitTransposeMatMul(stock: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: 'BatchMatMul',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
      if (!transposeA && !transposeB) return stock.kernelFunc(args);
      const { a, b } = wrapInputs(args.backend as tf.KernelBackend, args.inputs);
      const operands = { a: transposeA ? swapLastTwo(a) : a, b: transposeB ? swapLastTwo(b) : b };
      const out = stock.kernelFunc({ inputs: operands, backend: args.backend, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
      tf.dispose([a, b, operands.a, operands.b]);
      return out;
    },
  };
}
