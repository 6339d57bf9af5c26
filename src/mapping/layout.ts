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

/**
 * `shape` permuted by `perm` (output axis i = input axis perm[i]) as the same move on fewer axes:
 * unit axes dropped, and input axes that stay neighbours, in order, merged into one. A 1x1 conv
 * kernel becomes a matrix transpose, a 3x3 one [kh, kw, in, out] → [out, in, kh, kw] the rank-3
 * [s, in, out] → [out, in, s].
 */
function simplify(shape: number[], perm: number[]): { shape: number[]; perm: number[] } {
  const axes = shape.map((_, i) => i).filter((i) => shape[i] !== 1);
  const kept = perm.filter((p) => shape[p] !== 1).map((p) => axes.indexOf(p));
  // Runs of consecutive (non-unit) input axes in output order.
  const runs: number[][] = [];
  for (const p of kept) {
    const last = runs[runs.length - 1];
    if (last && last[last.length - 1] === p - 1) last.push(p);
    else runs.push([p]);
  }
  const byInput = [...runs].sort((a, b) => a[0] - b[0]);
  return {
    shape: byInput.map((run) => run.reduce((n, p) => n * shape[axes[p]], 1)),
    perm: runs.map((run) => byInput.indexOf(run)),
  };
}

/** True when permuting `shape` by `perm` moves no element (only unit axes change places). */
export function movesNothing(shape: number[], perm: number[]): boolean {
  return simplify(shape, perm).perm.length <= 1;
}

/**
 * A permutation as `count` matrix transposes: the i-th moves the rows×cols matrix at `i·inStep`
 * (its rows inStride apart) to `i·outStep` (rows outStride apart).
 */
export interface TransposeBatch {
  count: number;
  rows: number;
  cols: number;
  inStride: number;
  outStride: number;
  inStep: number;
  outStep: number;
}

/**
 * Permuting `shape` by `perm` as matrix transposes, where it is one: a matrix transpose (Linear,
 * 1x1 conv and depthwise kernels) or [s, in, out] → [out, in, s] (the other conv kernels, one
 * transpose per input channel). Undefined for the identity and for other moves.
 */
export function asTransposes(shape: number[], perm: number[]): TransposeBatch | undefined {
  const s = simplify(shape, perm);
  if (s.perm.length === 2) return { count: 1, rows: s.shape[0], cols: s.shape[1], inStride: s.shape[1], outStride: s.shape[0], inStep: 0, outStep: 0 };
  if (s.perm.join() !== '2,1,0') return undefined;
  const [n, inner, m] = s.shape;
  return { count: inner, rows: n, cols: m, inStride: inner * m, outStride: inner * n, inStep: m, outStep: n };
}

/**
 * Permutes row-major `data` of `shape` (rank ≤ 4) by `perm` (output axis i = input axis perm[i]),
 * into `out` when given (as long as `data`, not the same memory).
 */
export function permute(data: Float32Array, shape: number[], perm: number[], out?: Float32Array): Float32Array {
  if (shape.length > 4) throw new Error(`internal: permute supports rank ≤ 4, got ${shape.length}`);
  if (movesNothing(shape, perm)) {
    if (!out) return data;
    out.set(data);
    return out;
  }
  const o4 = out ?? new Float32Array(data.length);
  const batch = asTransposes(shape, perm);
  if (batch) {
    for (let i = 0; i < batch.count; i++) transposeTiles(data, i * batch.inStep, batch.rows, batch.cols, batch.inStride, o4, i * batch.outStep, batch.outStride);
    return o4;
  }
  // Anything else: pad to rank 4 with leading unit axes, walk the output in order with the input strides.
  const s = simplify(shape, perm);
  const pad = 4 - s.shape.length;
  const inShape = [...Array<number>(pad).fill(1), ...s.shape];
  const fullPerm = [...Array.from({ length: pad }, (_, i) => i), ...s.perm.map((p) => p + pad)];
  const inStrides = [inShape[1] * inShape[2] * inShape[3], inShape[2] * inShape[3], inShape[3], 1];
  const [d0, d1, d2, d3] = fullPerm.map((p) => inShape[p]);
  const [s0, s1, s2, s3] = fullPerm.map((p) => inStrides[p]);
  let o = 0;
  for (let a = 0; a < d0; a++) {
    for (let b = 0; b < d1; b++) {
      for (let c = 0; c < d2; c++) {
        let i = a * s0 + b * s1 + c * s2;
        for (let d = 0; d < d3; d++, i += s3) o4[o++] = data[i];
      }
    }
  }
  return o4;
}

/**
 * out[to + c * outStride + r] = data[from + r * inStride + c] for r < rows, c < cols: a rows×cols
 * matrix, its rows `inStride` apart, transposed into rows `outStride` apart. Cache-sized tiles;
 * within a tile the writes run along output rows, four at once: written the other way, rows of
 * 1024 floats put every write of a tile 4 KiB apart, in the same few cache sets (fc6's 1024×12544
 * kernel: ~420 → ~35 ms), and four rows at once read each source row four floats at a time (~3x).
 */
function transposeTiles(data: Float32Array, from: number, rows: number, cols: number, inStride: number, out: Float32Array, to: number, outStride: number): void {
  const T = 64;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = Math.min(rows, r0 + T);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(cols, c0 + T);
      let c = c0;
      for (; c + 4 <= c1; c += 4) {
        const o0 = to + c * outStride;
        const o1 = o0 + outStride;
        const o2 = o1 + outStride;
        const o3 = o2 + outStride;
        for (let r = r0, i = from + c + r0 * inStride; r < r1; r++, i += inStride) {
          out[o0 + r] = data[i];
          out[o1 + r] = data[i + 1];
          out[o2 + r] = data[i + 2];
          out[o3 + r] = data[i + 3];
        }
      }
      for (; c < c1; c++) {
        const o = to + c * outStride;
        for (let r = r0, i = from + c + r0 * inStride; r < r1; r++, i += inStride) out[o + r] = data[i];
      }
    }
  }
}
