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
  /** Quantized storages: the quantized dtype and the integer dtype of its representation. */
  quantized?: { dtype: QDType; repr: DType };
}

export type QDType = 'qint8' | 'quint8' | 'qint32';

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
  { name: 'QInt8Storage', elementSize: 1, unsupported: 'quantized qint8', quantized: { dtype: 'qint8', repr: 'int8' } },
  { name: 'QUInt8Storage', elementSize: 1, unsupported: 'quantized quint8', quantized: { dtype: 'quint8', repr: 'uint8' } },
  { name: 'QInt32Storage', elementSize: 4, unsupported: 'quantized qint32', quantized: { dtype: 'qint32', repr: 'int32' } },
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
  /** Filled when the storage's bytes are in memory; legacy files fill it after the pickle. */
  bytes?: Uint8Array;
  /** Zip files read through a file: reads (and checks) the record on first use. */
  load?: () => Uint8Array;
  bigEndian: boolean;
}

/** The storage's bytes, read on first use. */
export function storageBytes(s: Storage): Uint8Array {
  if (!s.bytes) {
    if (!s.load) throw new Error(`storage '${s.key}' has no data`);
    s.bytes = s.load();
    s.load = undefined;
  }
  return s.bytes;
}

/** `_rebuild_qtensor`'s quantizer parameters; per-channel scales and zero points are tensors. */
export type QuantParams =
  | { scheme: 'per_tensor_affine'; scale: number; zeroPoint: number }
  | { scheme: 'per_channel_affine'; scales: unknown; zeroPoints: unknown; axis: number };

/** What `_rebuild_tensor_v2` and friends return: a tensor not yet copied out of its storage. */
export class LazyTensor {
  isParameter = false;
  requiresGrad = false;
  /** Set for quantized tensors (the storage then holds the integer representation). */
  quant?: QuantParams;
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
 * file buffer and with other tensors of the same storage: treat it as read-only. Read lazily (see
 * ReadOptions.lazy), `data` reads its record on first access. */
export class CheckpointTensor implements TorchTensor {
  private value: TensorData | undefined;
  private loader: (() => TensorData) | undefined;

  constructor(
    readonly dtype: DType,
    readonly shape: number[],
    data: TensorData | (() => TensorData),
    readonly isParameter: boolean,
    readonly requiresGrad: boolean,
  ) {
    if (typeof data === 'function') this.loader = data;
    else this.value = data;
  }

  get data(): TensorData {
    if (this.value === undefined) {
      this.value = this.loader!();
      this.loader = undefined;
    }
    return this.value;
  }

  /** False until a lazily read tensor's bytes are read. */
  get loaded(): boolean {
    return this.value !== undefined;
  }
}

/**
 * A quantized tensor as stored: its integer representation (int8 for qint8, uint8 for quint8, int32
 * for qint32) with the affine parameters; `dequantize` gives torch's `(q - zero_point) * scale`.
 */
export class QuantizedTensor {
  constructor(
    readonly dtype: QDType,
    readonly intRepr: CheckpointTensor,
    readonly scheme: 'per_tensor_affine' | 'per_channel_affine',
    /** One scale (per tensor) or one per index along `axis` (per channel). */
    readonly scale: number | number[],
    readonly zeroPoint: number | number[],
    readonly axis?: number,
  ) {}

  get shape(): number[] {
    return this.intRepr.shape;
  }

  /** `(q - zero_point) * scale` in float32, as `torch.dequantize`; computed when its data is first used. */
  dequantize(): CheckpointTensor {
    const compute = (): Float32Array => {
      const q = this.intRepr.data as Int8Array | Uint8Array | Int32Array;
      const out = new Float32Array(q.length);
      // torch computes in float32: (float(q) - zero_point) * float(scale); the store rounds the product.
      const f = Math.fround;
      if (typeof this.scale === 'number') {
        const s = f(this.scale);
        const z = this.zeroPoint as number;
        for (let i = 0; i < q.length; i++) out[i] = f(f(q[i]) - z) * s;
      } else {
        const scales = this.scale.map(f);
        const zps = this.zeroPoint as number[];
        const inner = this.shape.slice((this.axis as number) + 1).reduce((a, b) => a * b, 1);
        const n = scales.length;
        for (let i = 0; i < q.length; i++) {
          const c = Math.floor(i / inner) % n;
          out[i] = f(f(q[i]) - zps[c]) * scales[c];
        }
      }
      return out;
    };
    return new CheckpointTensor('float32', this.shape.slice(), compute, this.intRepr.isParameter, this.intRepr.requiresGrad);
  }

  /** e.g. `quint8, per-tensor affine, scale 0.05, zero point 10`. */
  describe(): string {
    if (typeof this.scale === 'number') return `${this.dtype}, per-tensor affine, scale ${this.scale}, zero point ${String(this.zeroPoint)}`;
    return `${this.dtype}, per-channel affine, axis ${this.axis}, ${this.scale.length} scales and zero points`;
  }
}

/** True for any object shaped like a `TorchTensor` (CheckpointTensor or one built elsewhere). */
export function isTensor(x: unknown): x is TorchTensor {
  return x instanceof CheckpointTensor
    || (typeof x === 'object' && x !== null && 'dtype' in x && 'shape' in x && 'data' in x && ArrayBuffer.isView((x as TorchTensor).data));
}
