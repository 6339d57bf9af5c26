// Shared data types of the checkpoint stage: what the reader produces and the mapper consumes.

/** Tensor element types that PyTorch checkpoints hold and torchport reads. */
export type DType =
  | 'float32' | 'float16' | 'bfloat16' | 'float64'
  | 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'bool';

/**
 * Element storage per dtype. float16 and bfloat16 keep their raw 16-bit patterns in a Uint16Array
 * (use `toFloat32` to widen); int64 uses BigInt64Array; bool uses Uint8Array (0/1).
 */
export type TensorData =
  | Float32Array | Float64Array | Uint16Array
  | Int8Array | Int16Array | Int32Array | BigInt64Array | Uint8Array;

/** A materialised tensor: contiguous, row-major (C order), in its own dtype. */
export interface TorchTensor {
  dtype: DType;
  shape: number[];
  data: TensorData;
}

/** An unwrapped state dict, in the checkpoint's key order. */
export type StateDict = Map<string, TorchTensor>;

/** OrderedDict `_metadata` of a state dict: module prefix → its entries (e.g. `{version: 2}`). */
export type StateDictMetadata = Map<string, Record<string, unknown>>;
