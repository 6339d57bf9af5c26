// Minimal NumPy .npy (format 1.0/2.0/3.0) reader and writer, little-endian, C order.
import { readFileSync } from 'node:fs';
import { DTYPE_BYTES, typedArrayOf } from './dtype.js';
import { InputError } from '../errors.js';
import type { DType, TorchTensor } from './types.js';

const DESCR: Record<DType, string> = {
  float32: '<f4', float16: '<f2', float64: '<f8', bfloat16: '',
  int8: '|i1', int16: '<i2', int32: '<i4', int64: '<i8', uint8: '|u1', bool: '|b1',
};
const BY_DESCR = new Map(Object.entries(DESCR).filter(([, d]) => d).map(([t, d]) => [d, t as DType]));

export class NpyError extends Error {}

/** Encodes a tensor as .npy bytes. bfloat16 has no NumPy dtype: widen it first. */
export function encodeNpy(t: TorchTensor): Buffer {
  const descr = DESCR[t.dtype];
  if (!descr) throw new NpyError(`dtype ${t.dtype} has no .npy equivalent; convert to float32 first`);
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), body]);
}

/** Decodes .npy bytes into a tensor (copied into an aligned buffer). */
export function decodeNpy(bytes: Uint8Array): TorchTensor {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') {
    throw new NpyError('not a .npy file (bad magic)');
  }
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || fortran === undefined || shapeText === undefined) throw new NpyError('malformed .npy header');
  if (fortran === 'True') throw new NpyError('Fortran-order .npy files are not supported');
  const dtype = BY_DESCR.get(descr);
  if (!dtype) throw new NpyError(`unsupported .npy dtype '${descr}'`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  const numel = shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLen;
  const nbytes = numel * DTYPE_BYTES[dtype];
  if (buf.length - offset < nbytes) throw new NpyError(`.npy data is truncated (${buf.length - offset} of ${nbytes} bytes)`);
  const copy = new ArrayBuffer(nbytes);
  new Uint8Array(copy).set(buf.subarray(offset, offset + nbytes));
  return { dtype, shape, data: typedArrayOf(dtype, copy, 0, numel) };
}

/** An .npy file as a tensor; a missing, unreadable or malformed file is an InputError naming it. */
export function readNpyFile(path: string): TorchTensor {
  try {
    return decodeNpy(readFileSync(path));
  } catch (err) {
    if (err instanceof NpyError) throw new InputError(err.message, path);
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? (err as Error).message})`, path);
  }
}
