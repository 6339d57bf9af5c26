// safetensors (https://github.com/huggingface/safetensors): an 8-byte little-endian header length,
// a JSON header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {str: str}},
// then the tensors' raw little-endian bytes, every byte belonging to exactly one tensor. Read as a
// flat state dict; every inconsistency in the header is an InputError naming the file.
import { InputError } from '../errors.js';
import { DTYPE_BYTES, typedArrayOf } from './dtype.js';
import { OrderedDict } from './pyobjects.js';
import { CheckpointTensor } from './storage.js';
import type { DType } from './types.js';

/** safetensors dtype names ↔ torchport's. */
export const SAFETENSORS_DTYPES: Readonly<Record<string, DType>> = {
  F32: 'float32', F16: 'float16', BF16: 'bfloat16', F64: 'float64',
  I8: 'int8', I16: 'int16', I32: 'int32', I64: 'int64', U8: 'uint8', BOOL: 'bool',
};

export const SAFETENSORS_NAME: Readonly<Record<DType, string>> = Object.fromEntries(
  Object.entries(SAFETENSORS_DTYPES).map(([name, dtype]) => [dtype, name]),
) as Record<DType, string>;

/** The header may not exceed this (the reference implementation's limit). */
export const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsFile {
  tensors: OrderedDict;
  /** `__metadata__`, when present. */
  metadata: Record<string, string>;
}

/** True when `buf` starts like a safetensors file: a plausible header length and then '{'. */
export function looksLikeSafetensors(buf: Uint8Array): boolean {
  if (buf.length < 10 || buf[8] !== 0x7b) return false;
  const view = new DataView(buf.buffer, buf.byteOffset, 8);
  return view.getUint32(4, true) === 0 && view.getUint32(0, true) <= MAX_HEADER_BYTES;
}

function isNonNegInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

export function readSafetensors(buf: Buffer, file: string): SafetensorsFile {
  const fail = (msg: string): never => {
    throw new InputError(`safetensors: ${msg}`, file);
  };
  if (buf.length < 8) fail(`${buf.length} bytes, too short for the 8-byte header length`);
  const n = buf.readBigUInt64LE(0);
  if (n > BigInt(MAX_HEADER_BYTES)) fail(`header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const headerLen = Number(n);
  if (8 + headerLen > buf.length) fail(`header length ${headerLen} runs past the end of the file (${buf.length} bytes)`);
  let header: unknown;
  try {
    header = JSON.parse(buf.toString('utf8', 8, 8 + headerLen));
  } catch (err) {
    return fail(`header is not valid JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return fail('header is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = buf.length - dataStart;
  const metadata: Record<string, string> = {};
  const spans: Array<{ name: string; begin: number; end: number; dtype: DType; shape: number[] }> = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('__metadata__ is not an object');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__.${k} is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null) fail(`entry '${name}' is not an object`);
    const dtype = SAFETENSORS_DTYPES[String(e.dtype)];
    if (!dtype) fail(`tensor '${name}' has unknown or unsupported dtype ${JSON.stringify(e.dtype)} (known: ${Object.keys(SAFETENSORS_DTYPES).join(', ')})`);
    if (!Array.isArray(e.shape) || !e.shape.every(isNonNegInt)) fail(`tensor '${name}' has a bad shape ${JSON.stringify(e.shape)}`);
    const shape = e.shape as number[];
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every(isNonNegInt)) fail(`tensor '${name}' has bad data_offsets ${JSON.stringify(offs)}`);
    const [begin, end] = offs as [number, number];
    if (begin > end || end > dataLen) fail(`tensor '${name}' has data_offsets [${begin}, ${end}] outside the ${dataLen} data bytes`);
    const numel = shape.reduce((a, b) => a * b, 1);
    if (!Number.isSafeInteger(numel) || numel * DTYPE_BYTES[dtype] !== end - begin) {
      fail(`tensor '${name}' holds ${end - begin} bytes but ${dtype}[${shape.join(', ')}] needs ${numel * DTYPE_BYTES[dtype]}`);
    }
    spans.push({ name, begin, end, dtype, shape });
  }
  const sorted = [...spans].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const s of sorted) {
    if (s.begin < covered) fail(`tensor '${s.name}' (bytes ${s.begin}..${s.end}) overlaps the tensor before it`);
    if (s.begin > covered) fail(`bytes ${covered}..${s.begin} of the data belong to no tensor`);
    covered = s.end;
  }
  if (covered !== dataLen) fail(`${dataLen - covered} trailing bytes after the last tensor`);
  const tensors = new OrderedDict();
  for (const s of spans) {
    const size = DTYPE_BYTES[s.dtype];
    const numel = (s.end - s.begin) / size;
    const at = buf.byteOffset + dataStart + s.begin;
    // Share the file's bytes when aligned for the element type, else copy once.
    const data = at % size === 0
      ? typedArrayOf(s.dtype, buf.buffer, at, numel)
      : typedArrayOf(s.dtype, new Uint8Array(buf.subarray(dataStart + s.begin, dataStart + s.end)).buffer, 0, numel);
    tensors.set(s.name, new CheckpointTensor(s.dtype, s.shape, data, false, false));
  }
  return { tensors, metadata };
}
