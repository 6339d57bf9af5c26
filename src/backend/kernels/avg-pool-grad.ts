// AvgPoolGrad on wasm for windows that tile the input without overlap (stride = window, or one
// window covering a whole dimension), such as RoIAlign's sum over its sampling taps: each input
// cell then receives its window's gradient divided by the window size, which is one broadcast of
// dy. Stock wasm loops over every window and cell (~0.4 s for RoIAlign's [25088, 3, 1, 256] in a
// Faster R-CNN training step; this path takes milliseconds). Other windows go to the stock kernel.
import * as tf from '@tensorflow/tfjs-core';
import { handOver, withFastPath, wrapInputs } from './composite.js';

interface PoolAttrs { filterSize: number | [number, number]; strides: number | [number, number]; pad: unknown }

const pair = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);

/** True when the windows along one dimension tile it exactly and never overlap. */
function tiles(inSize: number, outSize: number, filter: number, stride: number): boolean {
  return (outSize === 1 && filter === inSize) || (stride === filter && outSize * filter === inSize);
}

export const tilingAvgPoolGrad = withFastPath((args) => {
  const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const { filterSize, strides, pad } = args.attrs as unknown as PoolAttrs;
  const [fh, fw] = pair(filterSize);
  const [sh, sw] = pair(strides);
  const [n, h, w, c] = input.shape;
  const [, oh, ow] = dy.shape;
  const valid = pad === 'valid' || pad === 0;
  if (!valid || dy.dtype !== 'float32' || !tiles(h, oh, fh, sh) || !tiles(w, ow, fw, sw)) return undefined;
  const backend = args.backend as tf.KernelBackend;
  return handOver(backend, tf.tidy(() => {
    const grad = tf.reshape(wrapInputs(backend, { dy }).dy, [n, oh, 1, ow, 1, c]);
    const spread = tf.fill([1, 1, fh, 1, fw, 1], 1 / (fh * fw));
    return tf.reshape(tf.mul(grad, spread), [n, h, w, c]);
  }));
});
