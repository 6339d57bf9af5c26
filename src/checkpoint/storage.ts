// Storages and not-yet-materialised tensors, as the unpickler produces them. Tensors become
// `CheckpointTensor`s (materialise.ts) only after the whole file is parsed, so errors can name them.
import type { DType, TensorData, TorchTensor } from './types.js';

export interface StorageType {
  /** e.g. 'FloatStorage' (the name torch pickles as `torch.FloatStorage`). */
  name: string;
  elementSize: number;
  /** Undefined for element types torchport does not read. */
  dtype?: DType;
  /** Why it is unsupported, e.g. 'complex64' or 'quantized qint8'. */
  unsupported?: string;
}

const TYPES: StorageType[] = [
  { name: 'FloatStorage', elementSize: 4, dtype: 'float32' },
  { name: 'HalfStorage', elementSize: 2, dtype: 'float16' },
  { name: 'BFloat16Storage', elementSize: 2, dtype: 'bfloat16' },
  { name: 'DoubleStorage', elementSize: 8, dtype: 'float64' },
  { name: 'CharStorage', elementSize: 1, dtype: 'int8' },
  { name: 'ShortStorage', elementSize: 2, dtype: 'int16' },
  { name: 'IntStorage', elementSize: 4, dtype: 'int32' },
  { name: 'LongStorage', elementSize: 8, dtype: 'int64' },
  { name: 'ByteStorage', elementSize: 1, dtype: 'uint8' },
  { name: 'BoolStorage', elementSize: 1, dtype: 'bool' },
  { name: 'ComplexHalfStorage', elementSize: 4, unsupported: 'complex32' },
  { name: 'ComplexFloatStorage', elementSize: 8, unsupported: 'complex64' },
  { name: 'ComplexDoubleStorage', elementSize: 16, unsupported: 'complex128' },
  { name: 'QInt8Storage', elementSize: 1, unsupported: 'quantized qint8' },
  { name: 'QUInt8Storage', elementSize: 1, unsupported: 'quantized quint8' },
  { name: 'QInt32Storage', elementSize: 4, unsupported: 'quantized qint32' },
  { name: 'QUInt4x2Storage', elementSize: 1, unsupported: 'quantized quint4x2' },
  { name: 'QUInt2x4Storage', elementSize: 1, unsupported: 'quantized quint2x4' },
  { name: 'UInt16Storage', elementSize: 2, unsupported: 'uint16' },
  { name: 'UInt32Storage', elementSize: 4, unsupported: 'uint32' },
  { name: 'UInt64Storage', elementSize: 8, unsupported: 'uint64' },
  { name: 'Float8_e4m3fnStorage', elementSize: 1, unsupported: 'float8_e4m3fn' },
  { name: 'Float8_e5m2Storage', elementSize: 1, unsupported: 'float8_e5m2' },
  { name: 'Float8_e4m3fnuzStorage', elementSize: 1, unsupported: 'float8_e4m3fnuz' },
  { name: 'Float8_e5m2fnuzStorage', elementSize: 1, unsupported: 'float8_e5m2fnuz' },
];

export const STORAGE_TYPES: ReadonlyMap<string, StorageType> = new Map(TYPES.map((t) => [t.name, t]));

/** The bytes of one storage, as the file holds them (little-endian unless `bigEndian`). */
export interface Storage {
  type: StorageType;
  /** Record name (zip) or storage key (legacy), for messages. */
  key: string;
  numel: number;
  /** Filled when the storage's record is located; legacy files fill it after the pickle. */
  bytes?: Uint8Array;
  bigEndian: boolean;
}

/** What `_rebuild_tensor_v2` and friends return: a tensor not yet copied out of its storage. */
export class LazyTensor {
  isParameter = false;
  requiresGrad = false;
  constructor(
    readonly storage: Storage,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

/** A tensor kind torchport does not read (quantized, sparse, ...); an error names it when reached. */
export class UnsupportedTensor {
  constructor(readonly reason: string) {}
}

/** A materialised tensor: contiguous, C order, in its own dtype. `data` may share memory with the
 * file buffer and with other tensors of the same storage: treat it as read-only. */
export class CheckpointTensor implements TorchTensor {
  constructor(
    readonly dtype: DType,
    readonly shape: number[],
    readonly data: TensorData,
    readonly isParameter: boolean,
    readonly requiresGrad: boolean,
  ) {}
}

/** True for any object shaped like a `TorchTensor` (CheckpointTensor or one built elsewhere). */
export function isTensor(x: unknown): x is TorchTensor {
  return x instanceof CheckpointTensor
    || (typeof x === 'object' && x !== null && 'dtype' in x && 'shape' in x && 'data' in x && ArrayBuffer.isView((x as TorchTensor).data));
}
