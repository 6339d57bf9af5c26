// A tensor to be written (to .pth or safetensors): its name, dtype and shape up front, its data
// produced only when the writer reaches it, so a large state dict is never held twice.
import { DTYPE_BYTES } from './dtype.js';
import type { DType, TensorData } from './types.js';

export interface OutTensor {
  key: string;
  dtype: DType;
  shape: number[];
  /** Contiguous, row-major, little-endian; length = product of shape. */
  data(): TensorData;
  /**
   * The same bytes in order, handed to `write` piece by piece (each piece is used before the next
   * is made, so pieces may share memory). Writers prefer it to `data()`: no whole copy is held.
   */
  stream?(write: (piece: Uint8Array) => void): void;
}

/** The tensor's byte length, from its dtype and shape. */
export function byteLengthOf(t: OutTensor): number {
  return t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype];
}

/** Hands the tensor's bytes to `write` (streamed where it can), checking that they are all there. */
export function writeTensorBytes(t: OutTensor, write: (piece: Uint8Array) => void): void {
  let n = 0;
  const counted = (piece: Uint8Array): void => {
    n += piece.length;
    write(piece);
  };
  if (t.stream) t.stream(counted);
  else {
    const d = t.data();
    counted(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }
  if (n !== byteLengthOf(t)) throw new Error(`internal: tensor '${t.key}' produced ${n} bytes, not ${byteLengthOf(t)}`);
}
