// PyTorch → TF.js tensor layouts, decided by the target parameter's kind and the source's shape
// (see ParamKind): conv2d OIHW → HWIO, depthwise [C,1,kh,kw] → [kh,kw,C,1], dense from Linear
// [out,in] or a 1x1 conv [out,in,1,1] → [in,out], vectors as they are.
import type { ParamKind } from '../models/params.js';

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

/** Permutes row-major `data` of `shape` by `perm` (output axis i = input axis perm[i]). */
export function permute(data: Float32Array, shape: number[], perm: number[]): Float32Array {
  if (perm.every((p, i) => p === i)) return data;
  const rank = shape.length;
  const inStrides = new Array<number>(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= shape[i];
  }
  const outShape = perm.map((p) => shape[p]);
  const stride = perm.map((p) => inStrides[p]);
  const out = new Float32Array(data.length);
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = data[src];
    // advance the output index odometer, keeping the source offset in step
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      src += stride[d];
      if (idx[d] < outShape[d]) break;
      src -= stride[d] * outShape[d];
      idx[d] = 0;
    }
  }
  return out;
}
