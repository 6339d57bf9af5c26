// Packed right operands for the SIMD GEMM, kept for the operands that come back: inference
// weights (the box head's fc6 kernel, 51 MB, takes ~20 ms to pack) are packed once, the first
// time they are met again. Operands met once (activations, and training weights, which get a new
// dataId every step) are packed into a scratch tensor that is freed after the product.
// An entry lives while its source tensor does: each call frees entries whose source is gone.
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type * as tf from '@tensorflow/tfjs-core';
import { alignLine, HeapGemm, type HeapMatrix } from '../simd/heap-gemm.js';

interface Packed {
  info: tf.TensorInfo;
  /** The panels' byte address, aligned to a 64-byte cache line. */
  address: number;
}

function packInto(backend: BackendWasm, gemm: HeapGemm, right: HeapMatrix, depth: number, n: number): Packed {
  const info = backend.makeOutput([HeapGemm.packedBytes(depth, n) / 4], 'float32');
  const address = alignLine(backend.typedArrayFromHeap(info).byteOffset);
  gemm.pack(right, depth, n, address);
  return { info, address };
}

export class PackedRightOperands {
  /** Layouts each source has been met in: transposed or not, and the shape it was read as. */
  private readonly seen = new WeakMap<object, Set<string>>();
  private readonly kept = new Map<object, Map<string, Packed>>();

  /**
   * Runs `use` with the packed form of `source` (`right` locates its elements on the heap; its
   * address is read after every allocation here, as a heap growth moves typed views).
   */
  with(backend: BackendWasm, gemm: HeapGemm, source: tf.TensorInfo, transposed: boolean, right: () => HeapMatrix, depth: number, n: number, use: (address: number) => void): void {
    this.sweep(backend);
    // a reshape shares its source's data, so the same data may come back read as another shape
    const layout = `${transposed ? 'T' : 'N'}${depth}x${n}`;
    const cached = this.kept.get(source.dataId)?.get(layout);
    if (cached) return use(cached.address);
    const layouts = this.seen.get(source.dataId) ?? new Set<string>();
    this.seen.set(source.dataId, layouts);
    const again = layouts.has(layout);
    layouts.add(layout);
    const packed = packInto(backend, gemm, right(), depth, n);
    if (again) {
      const entries = this.kept.get(source.dataId) ?? new Map<string, Packed>();
      entries.set(layout, packed);
      this.kept.set(source.dataId, entries);
      return use(packed.address);
    }
    use(packed.address);
    backend.disposeData(packed.info.dataId);
  }

  private sweep(backend: BackendWasm): void {
    for (const [dataId, entries] of this.kept) {
      if (backend.dataIdMap.has(dataId)) continue;
      for (const packed of entries.values()) backend.disposeData(packed.info.dataId);
      this.kept.delete(dataId);
    }
  }
}
