// torchvision's BoxCoder: boxes ↔ (dx, dy, dw, dh) deltas relative to reference boxes, scaled by
// weights (wx, wy, ww, wh); decoding clamps dw/dh at log(1000/16) from above only. Arithmetic is
// rounded to float32 at each step as torch does on float tensors.
import { BBOX_XFORM_CLIP } from './config.js';

const f = Math.fround;

export type BoxCoderWeights = readonly [number, number, number, number];

/**
 * Deltas that take each `reference` box (e.g. an anchor or proposal) to the matching `target`
 * box (e.g. its ground truth): flat `[n*4]` in, flat `[n*4]` out.
 */
export function encodeBoxes(targets: Float32Array, references: Float32Array, weights: BoxCoderWeights): Float32Array {
  const [wx, wy, ww, wh] = weights;
  const out = new Float32Array(targets.length);
  for (let i = 0; i < targets.length; i += 4) {
    const exW = f(references[i + 2] - references[i]);
    const exH = f(references[i + 3] - references[i + 1]);
    const exX = f(references[i] + f(0.5 * exW));
    const exY = f(references[i + 1] + f(0.5 * exH));
    const gtW = f(targets[i + 2] - targets[i]);
    const gtH = f(targets[i + 3] - targets[i + 1]);
    const gtX = f(targets[i] + f(0.5 * gtW));
    const gtY = f(targets[i + 1] + f(0.5 * gtH));
    out[i] = f(f(wx * f(gtX - exX)) / exW);
    out[i + 1] = f(f(wy * f(gtY - exY)) / exH);
    out[i + 2] = f(ww * f(Math.log(f(gtW / exW))));
    out[i + 3] = f(wh * f(Math.log(f(gtH / exH))));
  }
  return out;
}

/**
 * Applies deltas to reference boxes. `deltas` holds `k` boxes per reference (`[n, k*4]` flat, e.g.
 * one per class); the result has the same layout.
 */
export function decodeBoxes(
  deltas: Float32Array,
  references: Float32Array,
  weights: BoxCoderWeights,
  clip = BBOX_XFORM_CLIP,
): Float32Array {
  const [wx, wy, ww, wh] = weights;
  const n = references.length / 4;
  const perRef = n === 0 ? 0 : deltas.length / references.length;
  const out = new Float32Array(deltas.length);
  for (let r = 0; r < n; r++) {
    const w = f(references[4 * r + 2] - references[4 * r]);
    const h = f(references[4 * r + 3] - references[4 * r + 1]);
    const cx = f(references[4 * r] + f(0.5 * w));
    const cy = f(references[4 * r + 1] + f(0.5 * h));
    for (let k = 0; k < perRef; k++) {
      const i = (r * perRef + k) * 4;
      const dx = f(deltas[i] / wx);
      const dy = f(deltas[i + 1] / wy);
      const dw = Math.min(f(deltas[i + 2] / ww), f(clip));
      const dh = Math.min(f(deltas[i + 3] / wh), f(clip));
      const px = f(f(dx * w) + cx);
      const py = f(f(dy * h) + cy);
      const halfW = f(0.5 * f(f(Math.exp(dw)) * w));
      const halfH = f(0.5 * f(f(Math.exp(dh)) * h));
      out[i] = f(px - halfW);
      out[i + 1] = f(py - halfH);
      out[i + 2] = f(px + halfW);
      out[i + 3] = f(py + halfH);
    }
  }
  return out;
}
