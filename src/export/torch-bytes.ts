// A folder weight (TF.js layout, float32) as the bytes of its PyTorch layout and dtype, made piece
// by piece in two buffers that every weight of an export shares. Fresh memory is what costs here,
// not copying: each new page faults in, so a weight's own read and permuted copies cost more than
// the permutation. A matrix transpose larger than a block (fc6's 12544×1024 kernel, fc7's) is
// written a band of output rows at a time, each band gathered from the whole source read a block of
// rows at a time: the source is read once per band, from the page cache, into the same block buffer.
import { fromFloat32 } from '../checkpoint/narrow.js';
import type { DType } from '../checkpoint/types.js';
import { asTranspose, permute, planLayout, transposeTiles } from '../mapping/layout.js';
import type { ParamKind } from '../mapping/params.js';
import type { FolderWeight } from './model-folder.js';

/** Floats in one source block (1 MB). */
const BLOCK = 1 << 18;
/**
 * Floats in one band of output rows (8 MB). Each band reads the whole source again, each MB of
 * buffer is paid once in page faults: on a VM where a fresh MB costs ~3 ms and reading 51 MB from
 * the page cache ~6 ms, 8 MB bands (7 for fc6) cost about the least.
 */
const BAND = 1 << 21;

/** The two buffers, grown (to at least a block, resp. a band, then doubling) to the largest piece asked for. */
export class Scratch {
  private readonly buffers = [new Float32Array(0), new Float32Array(0)];

  /** Buffer `which` (0: source, 1: output), at least `n` long, as its first `n` floats. */
  get(which: 0 | 1, n: number): Float32Array {
    const have = this.buffers[which].length;
    if (have < n) this.buffers[which] = new Float32Array(Math.max(n, 2 * have, which === 0 ? BLOCK : BAND));
    return this.buffers[which].subarray(0, n);
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
  if (perm.every((p, i) => p === i)) {
    for (let first = 0; first < n; first += BLOCK) {
      const piece = scratch.get(0, Math.min(BLOCK, n - first));
      w.readInto(piece, first);
      emit(piece);
    }
  } else if (n <= BLOCK || !asTranspose(w.shape, perm)) {
    const source = scratch.get(0, n);
    w.readInto(source, 0);
    emit(permute(source, w.shape, perm, scratch.get(1, n)));
  } else {
    // [rows, cols] → [cols, rows]: output rows [c0, c1) are source columns [c0, c1).
    const [rows, cols] = asTranspose(w.shape, perm) as [number, number];
    // Bands of equal height, each at most BAND floats (or one output row).
    const k = Math.ceil(cols / Math.ceil(cols / Math.max(1, Math.floor(BAND / rows))));
    const blockRows = Math.max(1, Math.floor(BLOCK / cols));
    for (let c0 = 0; c0 < cols; c0 += k) {
      const c1 = Math.min(cols, c0 + k);
      const band = scratch.get(1, (c1 - c0) * rows);
      for (let r0 = 0; r0 < rows; r0 += blockRows) {
        const block = scratch.get(0, Math.min(blockRows, rows - r0) * cols);
        w.readInto(block, r0 * cols);
        transposeTiles(block, c0, block.length / cols, c1 - c0, cols, band, r0, rows);
      }
      emit(band);
    }
  }
}
