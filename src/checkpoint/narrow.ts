// float32 values → another floating dtype, rounding to nearest even (exact whenever the values came
// from that dtype, so widening on import and narrowing on export give back the same bits).
import type { DType, TensorData } from './types.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half-precision bits of `x`, rounded to nearest even (overflow → ±inf, NaN kept NaN). */
export function floatToHalf(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const frac = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (frac ? 0x200 | (frac >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = frac | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let h = m >>> shift;
    if (rest > half || (rest === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (frac >>> 13);
  const rest = frac & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++;
  return sign | h;
}

/** bfloat16 bits of `x` (the top half of its float32), rounded to nearest even. */
export function floatToBfloat16(x: number): number {
  f32[0] = x;
  const b = u32[0];
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff)) return (b >>> 16) | 0x40;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

/** `data` (float32) as a floating `dtype`; float32 is returned as is. */
export function fromFloat32(data: Float32Array, dtype: DType): TensorData {
  switch (dtype) {
    case 'float32':
      return data;
    case 'float64':
      return Float64Array.from(data);
    case 'float16': {
      const out = new Uint16Array(data.length);
      for (let i = 0; i < data.length; i++) out[i] = floatToHalf(data[i]);
      return out;
    }
    case 'bfloat16': {
      const out = new Uint16Array(data.length);
      const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
      for (let i = 0; i < data.length; i++) {
        const b = bits[i];
        out[i] = (b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) ? (b >>> 16) | 0x40 : ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
      }
      return out;
    }
    default:
      throw new Error(`internal: cannot narrow float32 to ${dtype}`);
  }
}
