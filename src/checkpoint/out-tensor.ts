// A tensor to be written (to .pth or safetensors): its name, dtype and shape up front, its data
// produced only when the writer reaches it, so a large state dict is never held twice.
import type { DType, TensorData } from './types.js';

export interface OutTensor {
  key: string;
  dtype: DType;
  shape: number[];
  /** Contiguous, row-major, little-endian; length = product of shape. */
  data(): TensorData;
}
