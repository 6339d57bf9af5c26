// A folder weight (TF.js layout, float32) as the bytes of its PyTorch layout and dtype, made piece
// by piece in two buffers that every weight of an export shares, both in one wasm memory where the
// SIMD transpose runs. Fresh memory is what costs here, not copying: each new page faults in, so a
// weight's own read and permuted copies cost more than the permutation. A matrix transpose larger
// than a block (fc6's 12544×1024 kernel, fc7's) is written a band of output rows at a time, each
// band gathered from the whole source read a block of rows at a time: the source is read once per
// band, from the page cache, into the same block buffer.
import { WasmTranspose } from '../backend/simd/transpose.js';
import { fromFloat32 } from '../checkpoint/narrow.js';
import type { DType } from '../checkpoint/types.js';
import { asTransposes, movesNothing, planLayout } from '../mapping/layout.js';
import type { ParamKind } from '../mapping/params.js';
import type { FolderWeight } from './model-folder.js';

/** Floats in one source block (1 MB). */
const BLOCK = 1 << 18;
/**
 * Floats in one band of output rows (16 MB). Each band reads the whole source again, and each MB of
 * buffer is paid once in page faults: on a VM where a fresh MB costs ~3 ms and reading 51 MB from
 * the page cache ~3 ms, 13 MB bands (4 for fc6) cost about the least over an export or two.
 */
const BAND = 1 << 22;

/**
 * The two buffers (0: source, 1: output) in one wasm memory, grown to the largest pieces asked for
 * (at least a block, resp. a band, then doubling).
 */
export class Scratch {
  private readonly heap = new WasmTranspose();
  private readonly capacity = [0, 0];

  /** `block` and `band`: floats in one source block and in one band of output rows (smaller in tests). */
  constructor(readonly block = BLOCK, readonly band = BAND) {}

  /**
   * Views of the first `source` floats of buffer 0 and the first `output` floats of buffer 1. They
   * stay valid until the next call.
   */
  views(source: number, output: number): [Float32Array, Float32Array] {
    const [have0, have1] = this.capacity;
    if (have0 < source) this.capacity[0] = Math.max(source, 2 * have0, this.block);
    if (have1 < output) this.capacity[1] = Math.max(output, 2 * have1, this.band);
    this.heap.reserve(this.capacity[0] + this.capacity[1]);
    const { buffer } = this.heap.memory;
    return [new Float32Array(buffer, 0, source), new Float32Array(buffer, 4 * this.capacity[0], output)];
  }

  /** Transposes within the buffers: `from` into buffer 0, `to` into buffer 1 (float offsets); see WasmTranspose.run. */
  transpose(from: number, rows: number, cols: number, inStride: number, to: number, outStride: number): void {
    this.heap.run(from, rows, cols, inStride, this.capacity[0] + to, outStride);
  }
}

/** How a TF.js weight of `shape` becomes the source layout `sourceShape`: the permutation from TF.js axes to PyTorch's. */
export function torchPermutation(name: string, kind: ParamKind, shape: number[], sourceShape: number[]): number[] {
  const layout = planLayout(kind, sourceShape);
  if ('error' in layout || layout.shape.join() !== shape.join()) throw new Error(`internal: cannot lay '${name}' [${shape.join(', ')}] out as [${sourceShape.join(', ')}]`);
  const inverse = new Array<number>(layout.perm.length);
  layout.perm.forEach((p, i) => { inverse[p] = i; });
  return inverse;
}

/** Hands `w`'s values in PyTorch's layout `sourceShape` and `dtype` to `write`, in pieces. */
export function streamTorchBytes(name: string, kind: ParamKind, w: FolderWeight, sourceShape: number[], dtype: DType, scratch: Scratch, write: (piece: Uint8Array) => void): void {
  const perm = torchPermutation(name, kind, w.shape, sourceShape);
  const emit = (values: Float32Array): void => {
    const d = fromFloat32(values, dtype);
    write(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  };
  const n = w.shape.reduce((a, b) => a * b, 1);
  const batch = asTransposes(w.shape, perm);
  if (movesNothing(w.shape, perm)) {
    for (let first = 0; first < n; first += scratch.block) {
      const [piece] = scratch.views(Math.min(scratch.block, n - first), 0);
      w.readInto(piece, first);
      emit(piece);
    }
  } else if (!batch) {
    throw new Error(`internal: '${name}' [${w.shape.join(', ')}] by [${perm.join(', ')}] is no transpose`);
  } else if (n <= scratch.block || batch.count > 1) {
    const [source, out] = scratch.views(n, n);
    w.readInto(source, 0);
    for (let i = 0; i < batch.count; i++) scratch.transpose(i * batch.inStep, batch.rows, batch.cols, batch.inStride, i * batch.outStep, batch.outStride);
    emit(out);
  } else {
    // [rows, cols] → [cols, rows]: output rows [c0, c1) are source columns [c0, c1).
    const { rows, cols } = batch;
    // Bands of equal height, each at most a band of floats (or one output row).
    const k = Math.ceil(cols / Math.ceil(cols / Math.max(1, Math.floor(scratch.band / rows))));
    const blockRows = Math.max(1, Math.floor(scratch.block / cols));
    for (let c0 = 0; c0 < cols; c0 += k) {
      const c1 = Math.min(cols, c0 + k);
      const [, band] = scratch.views(blockRows * cols, (c1 - c0) * rows);
      for (let r0 = 0; r0 < rows; r0 += blockRows) {
        const [block] = scratch.views(Math.min(blockRows, rows - r0) * cols, (c1 - c0) * rows);
        w.readInto(block, r0 * cols);
        scratch.transpose(c0, block.length / cols, c1 - c0, cols, r0, rows);
      }
      emit(band);
    }
  }
}
