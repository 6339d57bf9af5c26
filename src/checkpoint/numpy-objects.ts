// numpy as pickled: `numpy.dtype(code, False, True)` + BUILD `(3, byteorder, ...)`; arrays as
// `_reconstruct(ndarray, (0,), b'b')` + BUILD `(1, shape, dtype, is_fortran, rawdata)`; scalars as
// `scalar(dtype, rawbytes)`. Decoded into typed arrays and JS numbers; nothing from numpy runs.
import { halfToFloat, typedArrayOf } from './dtype.js';
import { gather } from './materialise.js';
import { DataError, type Buildable } from './pyobjects.js';
import type { DType, TensorData } from './types.js';

const NUMPY_DTYPES: Record<string, DType> = {
  f2: 'float16', f4: 'float32', f8: 'float64', i1: 'int8', i2: 'int16', i4: 'int32', i8: 'int64', u1: 'uint8', b1: 'bool',
};

/** `numpy.dtype`: its code (`f4`, `i8`, `b1`, ...) and byte order (`<`, `>`, `|`, `=`). */
export class NumpyDType implements Buildable {
  byteOrder = '=';
  /** Structured dtypes (fields) are kept undecoded. */
  structured = false;
  constructor(readonly code: string) {}
  setState(state: unknown): void {
    if (!Array.isArray(state)) throw new DataError('numpy dtype state is not a tuple');
    if (typeof state[1] === 'string') this.byteOrder = state[1];
    this.structured = state[3] !== null && state[3] !== undefined;
  }
  get size(): number {
    return Number(this.code.slice(1));
  }
}

/**
 * A numpy array, C order, little-endian, in the matching tensor dtype (so `isTensor` accepts it).
 * Arrays whose dtype torchport does not decode (uint16-64, complex, strings, objects, structured)
 * keep `code` and leave `data` undefined.
 */
export class NumpyArray implements Buildable {
  dtype: DType | undefined;
  shape: number[] = [];
  data: TensorData | undefined;
  code = '';

  setState(state: unknown): void {
    if (!Array.isArray(state) || state.length < 5) throw new DataError('numpy array state is not (version, shape, dtype, is_fortran, data)');
    const [, shape, dtype, fortran, raw] = state as unknown[];
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) throw new DataError('numpy array shape is malformed');
    if (!(dtype instanceof NumpyDType)) throw new DataError('numpy array dtype is malformed');
    this.shape = shape as number[];
    this.code = dtype.code;
    const tensorDtype = dtype.structured ? undefined : NUMPY_DTYPES[dtype.code];
    if (!tensorDtype || !(raw instanceof Uint8Array)) return;
    const size = dtype.size;
    const numel = this.shape.reduce((a, b) => a * b, 1);
    if (!Number.isSafeInteger(numel) || raw.length !== numel * size) {
      throw new DataError(`numpy array of shape [${this.shape.join(', ')}] and dtype ${dtype.code} has ${raw.length} bytes`);
    }
    let bytes = new Uint8Array(raw); // an aligned copy
    if (dtype.byteOrder === '>' && size > 1) for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
    if (fortran === true && this.shape.length > 1) {
      const stride: number[] = [];
      let s = 1;
      for (const d of this.shape) { stride.push(s); s *= d; }
      bytes = new Uint8Array(gather(bytes, size, 0, this.shape, stride, numel));
    }
    this.dtype = tensorDtype;
    this.data = typedArrayOf(tensorDtype, bytes.buffer, 0, numel);
  }
}

/** `numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), b'b')`: an empty array that BUILD fills. */
export function reconstructArray(args: unknown[]): NumpyArray {
  const [cls] = args;
  if (!(cls instanceof Object) || (cls as { qualname?: unknown }).qualname !== 'numpy.ndarray') {
    throw new DataError('_reconstruct is allowed only for numpy.ndarray');
  }
  return new NumpyArray();
}

/** `numpy.core.multiarray.scalar(dtype, rawbytes)` → a JS number, bigint or boolean. */
export function numpyScalar(args: unknown[]): unknown {
  const [dtype, raw] = args;
  if (!(dtype instanceof NumpyDType) || !(raw instanceof Uint8Array)) throw new DataError('malformed numpy scalar');
  const b = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const le = dtype.byteOrder !== '>';
  if (b.length < dtype.size) throw new DataError(`numpy scalar of dtype ${dtype.code} has ${b.length} bytes`);
  switch (dtype.code) {
    case 'f8': return le ? b.readDoubleLE(0) : b.readDoubleBE(0);
    case 'f4': return le ? b.readFloatLE(0) : b.readFloatBE(0);
    case 'f2': return halfToFloat(le ? b.readUInt16LE(0) : b.readUInt16BE(0));
    case 'i8': case 'u8': {
      const v = dtype.code === 'i8' ? (le ? b.readBigInt64LE(0) : b.readBigInt64BE(0)) : (le ? b.readBigUInt64LE(0) : b.readBigUInt64BE(0));
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    }
    case 'i4': return le ? b.readInt32LE(0) : b.readInt32BE(0);
    case 'u4': return le ? b.readUInt32LE(0) : b.readUInt32BE(0);
    case 'i2': return le ? b.readInt16LE(0) : b.readInt16BE(0);
    case 'u2': return le ? b.readUInt16LE(0) : b.readUInt16BE(0);
    case 'i1': return b.readInt8(0);
    case 'u1': return b.readUInt8(0);
    case 'b1': return b[0] !== 0;
    default: throw new DataError(`numpy scalar of dtype '${dtype.code}' is not supported`);
  }
}
