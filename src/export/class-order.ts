// Moving a detector's box predictor between class layouts (see classColumns): torchvision keeps
// background in column 0 with box deltas for every column; mmdetection keeps it last, with deltas
// for the foreground only. Weights are in TF.js layout: dense kernels [in, out], biases [out].
export type ClassLayout = 'torchvision' | 'mmdet';

/** The box predictor's weights: their shape changes with the class layout. */
export const PREDICTOR_WEIGHT = /(?:^|\.)(cls_score|bbox_pred)\.(weight|bias)$/;

/** Output column `j` of the other layout takes input column `source[j]` (-1: zeros). */
function columnsFor(from: ClassLayout, k: number, param: 'cls_score' | 'bbox_pred'): number[] {
  const fg = Array.from({ length: k - 1 }, (_, i) => i);
  if (param === 'cls_score') {
    // torchvision [bg, fg...] ↔ mmdet [fg..., bg]
    return from === 'torchvision' ? [...fg.map((i) => i + 1), 0] : [k - 1, ...fg];
  }
  // Box deltas, 4 columns per class: torchvision has a (unused) background block first.
  const blocks = from === 'torchvision' ? fg.map((i) => i + 1) : [-1, ...fg];
  return blocks.flatMap((b) => (b < 0 ? [-1, -1, -1, -1] : [4 * b, 4 * b + 1, 4 * b + 2, 4 * b + 3]));
}

/** The predictor weight `name` (`...cls_score.weight`, `...bbox_pred.bias`, ...) re-ordered, or undefined when it is no predictor weight. */
export function reorderClasses(name: string, shape: number[], data: Float32Array, from: ClassLayout, to: ClassLayout, numClasses: number): { shape: number[]; data: Float32Array } | undefined {
  if (from === to) return undefined;
  const m = PREDICTOR_WEIGHT.exec(name);
  if (!m) return undefined;
  const cols = columnsFor(from, numClasses, m[1] as 'cls_score' | 'bbox_pred');
  const rows = m[2] === 'weight' ? shape[0] : 1;
  const width = shape[shape.length - 1];
  const out = new Float32Array(rows * cols.length);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols.length; j++) out[r * cols.length + j] = cols[j] < 0 ? 0 : data[r * width + cols[j]];
  }
  return { shape: m[2] === 'weight' ? [rows, cols.length] : [cols.length], data: out };
}
