// Resampling built from tf.gather (which has a gradient on every backend, unlike
// ResizeNearestNeighbor / MaxPool gradients on wasm).
import * as tf from '@tensorflow/tfjs-core';

const f = Math.fround;

/** PyTorch's `nearest` source index for each output index (float32 scale, floor, clamp). */
function nearestIndices(inSize: number, outSize: number): Int32Array {
  const scale = f(inSize / outSize);
  return Int32Array.from({ length: outSize }, (_, o) => Math.min(Math.floor(f(o * scale)), inSize - 1));
}

/** `F.interpolate(x, size=[h, w], mode='nearest')` on NHWC. */
export function resizeNearest(x: tf.Tensor4D, height: number, width: number): tf.Tensor4D {
  const [, h, w] = x.shape;
  let y = x;
  if (h !== height) y = tf.gather(y, nearestIndices(h, height), 1);
  if (w !== width) y = tf.gather(y, nearestIndices(w, width), 2);
  return y;
}

/** `F.max_pool2d(x, kernel_size=1, stride=2)`: every other row and column, from the first. */
export function subsample2(x: tf.Tensor4D): tf.Tensor4D {
  const [, h, w] = x.shape;
  const rows = Int32Array.from({ length: Math.ceil(h / 2) }, (_, i) => 2 * i);
  const cols = Int32Array.from({ length: Math.ceil(w / 2) }, (_, i) => 2 * i);
  return tf.gather(tf.gather(x, rows, 1), cols, 2);
}
