// Element-type helpers: byte sizes and widening of any numeric tensor to float32.
import type { DType, TensorData, TorchTensor } from './types.js';

export const DTYPE_BYTES: Record<DType, number> = {
  float32: 4, float16: 2, bfloat16: 2, float64: 8,
  int8: 1, int16: 2, int32: 4, int64: 8, uint8: 1, bool: 1,
};

/** IEEE half-precision bit pattern → float32 value. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Returns the tensor's values as float32 (a copy unless it already is float32). */
export function toFloat32(t: TorchTensor): Float32Array {
  const src = t.data;
  if (t.dtype === 'float32') return src as Float32Array;
  const out = new Float32Array(src.length);
  if (t.dtype === 'float16') {
    const h = src as Uint16Array;
    for (let i = 0; i < h.length; i++) out[i] = halfToFloat(h[i]);
  } else if (t.dtype === 'bfloat16') {
    // bfloat16 is the top half of a float32.
    const u = new Uint32Array(out.buffer);
    const h = src as Uint16Array;
    for (let i = 0; i < h.length; i++) u[i] = h[i] << 16;
  } else if (t.dtype === 'int64') {
    const b = src as BigInt64Array;
    for (let i = 0; i < b.length; i++) out[i] = Number(b[i]);
  } else {
    const n = src as Exclude<typeof src, BigInt64Array | Uint16Array>;
    for (let i = 0; i < n.length; i++) out[i] = n[i];
  }
  return out;
}

type ArrayCtor = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): TensorData };

const ARRAY_CTOR: Record<DType, ArrayCtor> = {
  float32: Float32Array, float16: Uint16Array, bfloat16: Uint16Array, float64: Float64Array,
  int8: Int8Array, int16: Int16Array, int32: Int32Array, int64: BigInt64Array, uint8: Uint8Array, bool: Uint8Array,
};

/** A typed array of `dtype` over `length` elements of `buffer` from `byteOffset` (which must be aligned). */
export function typedArrayOf(dtype: DType, buffer: ArrayBufferLike, byteOffset: number, length: number): TensorData {
  return new ARRAY_CTOR[dtype](buffer, byteOffset, length);
}
