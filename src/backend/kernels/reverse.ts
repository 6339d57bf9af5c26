// Reverse on wasm when the reversed axes are the leading ones, as in flipping a conv filter
// [kh, kw, ...] for the input gradient: reversing every axis of a leading block reverses the order
// of its flattened rows, which is one row gather (our GatherV2 copies whole rows). The stock kernel
// moves one element at a time (~45 ms for a 3x3x256x256 filter; this takes ~1 ms). Other axis sets
// go to the stock kernel.
import * as tf from '@tensorflow/tfjs-core';
import { handOver, withFastPath, wrapInputs } from './composite.js';

export const leadingReverse = withFastPath((args) => {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const axes = [...new Set(tf.util.parseAxisParam((args.attrs as { dims: number | number[] }).dims, x.shape))].sort((a, b) => a - b);
  const leading = axes.length > 0 && axes.every((a, i) => a === i);
  if (!leading || tf.util.sizeFromShape(x.shape) === 0 || (x.dtype !== 'float32' && x.dtype !== 'int32')) return undefined;
  const rows = tf.util.sizeFromShape(x.shape.slice(0, axes.length));
  const backend = args.backend as tf.KernelBackend;
  return handOver(backend, tf.tidy(() => {
    const order = tf.tensor1d(Int32Array.from({ length: rows }, (_, i) => rows - 1 - i), 'int32');
    const flat = tf.reshape(wrapInputs(backend, { x }).x, [rows, -1]);
    return tf.reshape(tf.gather(flat, order), x.shape);
  }));
});
