// PyTorch → TF.js tensor layouts, decided by the target parameter's kind and the source's shape
// (see ParamKind): conv2d OIHW → HWIO, depthwise [C,1,kh,kw] → [kh,kw,C,1], dense from Linear
// [out,in] or a 1x1 conv [out,in,1,1] → [in,out], vectors as they are.
import type { ParamKind } from './params.js';

export interface LayoutPlan {
  /** Shape after conversion (TF.js layout). */
  shape: number[];
  /** Axis permutation applied to the source (after dropping trailing 1x1 dims for dense). */
  perm: number[];
  /** The source shape the permutation applies to. */
  viewShape: number[];
}

/** How a source tensor of `shape` becomes a parameter of `kind`, or why it cannot. */
export function planLayout(kind: ParamKind, shape: number[]): LayoutPlan | { error: string } {
  const dims = `[${shape.join(', ')}]`;
  switch (kind) {
    case 'conv2d':
      if (shape.length !== 4) return { error: `a conv2d kernel needs a 4-D [out, in, kh, kw] source, got ${dims}` };
      return { shape: [shape[2], shape[3], shape[1], shape[0]], perm: [2, 3, 1, 0], viewShape: shape };
    case 'depthwise':
      if (shape.length !== 4 || shape[1] !== 1) return { error: `a depthwise kernel needs a [C, 1, kh, kw] source, got ${dims}` };
      return { shape: [shape[2], shape[3], shape[0], 1], perm: [2, 3, 0, 1], viewShape: shape };
    case 'dense':
      if (shape.length === 4 && shape[2] === 1 && shape[3] === 1) {
        return { shape: [shape[1], shape[0]], perm: [1, 0], viewShape: [shape[0], shape[1]] };
      }
      if (shape.length !== 2) return { error: `a dense kernel needs a Linear [out, in] or 1x1 conv [out, in, 1, 1] source, got ${dims}` };
      return { shape: [shape[1], shape[0]], perm: [1, 0], viewShape: shape };
    case 'vector':
      if (shape.length !== 1) return { error: `a vector needs a 1-D source, got ${dims}` };
      return { shape: [...shape], perm: [0], viewShape: shape };
  }
}

/** Permutes row-major `data` of `shape` (rank ≤ 4) by `perm` (output axis i = input axis perm[i]). */
export function permute(data: Float32Array, shape: number[], perm: number[]): Float32Array {
  if (perm.every((p, i) => p === i)) return data;
  if (shape.length > 4) throw new Error(`internal: permute supports rank ≤ 4, got ${shape.length}`);
  // Pad to rank 4 with leading unit axes, then walk the output in order with the input strides.
  const pad = 4 - shape.length;
  const inShape = [...Array<number>(pad).fill(1), ...shape];
  const fullPerm = [...Array.from({ length: pad }, (_, i) => i), ...perm.map((p) => p + pad)];
  const inStrides = [inShape[1] * inShape[2] * inShape[3], inShape[2] * inShape[3], inShape[3], 1];
  const [d0, d1, d2, d3] = fullPerm.map((p) => inShape[p]);
  const [s0, s1, s2, s3] = fullPerm.map((p) => inStrides[p]);
  const out = new Float32Array(data.length);
  // A plain matrix transpose (Linear and 1x1 conv kernels: most of the weights) goes tile by tile.
  if (d0 === 1 && d1 === 1 && s3 !== 1 && s2 === 1) return transpose2d(data, out, d3, d2);
  let o = 0;
  for (let a = 0; a < d0; a++) {
    for (let b = 0; b < d1; b++) {
      for (let c = 0; c < d2; c++) {
        let i = a * s0 + b * s1 + c * s2;
        for (let d = 0; d < d3; d++, i += s3) out[o++] = data[i];
      }
    }
  }
  return out;
}

/**
 * out[c][r] = data[r][c] for a rows×cols row-major matrix, in cache-sized tiles. Within a tile the
 * writes run along an output row: written the other way, rows of 1024 floats put every write of a
 * tile 4 KiB apart, in the same few cache sets (fc6's 1024×12544 kernel: ~420 → ~35 ms).
 */
function transpose2d(data: Float32Array, out: Float32Array, rows: number, cols: number): Float32Array {
  const T = 64;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = Math.min(rows, r0 + T);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(cols, c0 + T);
      for (let c = c0; c < c1; c++) {
        const at = c * rows;
        for (let r = r0; r < r1; r++) out[at + r] = data[r * cols + c];
      }
    }
  }
  return out;
}
