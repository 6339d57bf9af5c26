// Box utilities on plain Float32Arrays of (x1, y1, x2, y2) rows, with torchvision's semantics:
// NMS keeps the highest score first (stable order on ties), suppresses when IoU > threshold, and
// does its arithmetic in float32 (Math.fround) so borderline IoUs decide as torchvision's do.

const f = Math.fround;

/** Number of boxes in a flat (x1, y1, x2, y2) array. */
export function numBoxes(boxes: Float32Array): number {
  return boxes.length >> 2;
}

/** Rows `indices` of a flat box array, in that order. */
export function selectBoxes(boxes: Float32Array, indices: ArrayLike<number>): Float32Array {
  const out = new Float32Array(indices.length * 4);
  for (let k = 0; k < indices.length; k++) out.set(boxes.subarray(indices[k] * 4, indices[k] * 4 + 4), k * 4);
  return out;
}

/** Elements `indices` of a 1-D array, in that order. */
export function selectValues<T extends Float32Array | Int32Array>(values: T, indices: ArrayLike<number>): T {
  const out = new (values.constructor as new (n: number) => T)(indices.length);
  for (let k = 0; k < indices.length; k++) out[k] = values[indices[k]];
  return out;
}

export function boxArea(boxes: Float32Array): Float32Array {
  const n = numBoxes(boxes);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = f(f(boxes[4 * i + 2] - boxes[4 * i]) * f(boxes[4 * i + 3] - boxes[4 * i + 1]));
  return out;
}

/** Pairwise IoU, row-major `[a.length/4, b.length/4]` (torchvision's `box_iou`). */
export function boxIou(a: Float32Array, b: Float32Array): Float32Array {
  const n = numBoxes(a);
  const m = numBoxes(b);
  const areaA = boxArea(a);
  const areaB = boxArea(b);
  const out = new Float32Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const w = Math.max(0, f(Math.min(a[4 * i + 2], b[4 * j + 2]) - Math.max(a[4 * i], b[4 * j])));
      const h = Math.max(0, f(Math.min(a[4 * i + 3], b[4 * j + 3]) - Math.max(a[4 * i + 1], b[4 * j + 1])));
      const inter = f(w * h);
      out[i * m + j] = f(inter / f(f(areaA[i] + areaB[j]) - inter));
    }
  }
  return out;
}

/** Clamps every box to the image `[0, width] x [0, height]` (a new array). */
export function clipBoxes(boxes: Float32Array, height: number, width: number): Float32Array {
  const out = new Float32Array(boxes.length);
  for (let i = 0; i < boxes.length; i += 4) {
    out[i] = Math.min(Math.max(boxes[i], 0), width);
    out[i + 1] = Math.min(Math.max(boxes[i + 1], 0), height);
    out[i + 2] = Math.min(Math.max(boxes[i + 2], 0), width);
    out[i + 3] = Math.min(Math.max(boxes[i + 3], 0), height);
  }
  return out;
}

/** Indices of boxes whose width and height are both >= minSize (torchvision's `remove_small_boxes`). */
export function removeSmallBoxes(boxes: Float32Array, minSize: number): number[] {
  const keep: number[] = [];
  for (let i = 0; i < numBoxes(boxes); i++) {
    if (f(boxes[4 * i + 2] - boxes[4 * i]) >= minSize && f(boxes[4 * i + 3] - boxes[4 * i + 1]) >= minSize) keep.push(i);
  }
  return keep;
}

/** Indices sorted by descending score; equal scores keep their original order (a stable sort). */
export function argsortDescending(scores: ArrayLike<number>): number[] {
  const order = Array.from({ length: scores.length }, (_, i) => i);
  return order.sort((i, j) => scores[j] - scores[i] || i - j);
}

/**
 * Non-maximum suppression as torchvision's CPU kernel: visit boxes by descending score and drop
 * every later box whose IoU with a kept one exceeds `iouThresh`. Returns kept indices, best first.
 */
export function nms(boxes: Float32Array, scores: ArrayLike<number>, iouThresh: number): number[] {
  const order = argsortDescending(scores);
  const areas = boxArea(boxes);
  const suppressed = new Uint8Array(order.length);
  const keep: number[] = [];
  for (let a = 0; a < order.length; a++) {
    const i = order[a];
    if (suppressed[i]) continue;
    keep.push(i);
    const ix1 = boxes[4 * i], iy1 = boxes[4 * i + 1], ix2 = boxes[4 * i + 2], iy2 = boxes[4 * i + 3];
    for (let b = a + 1; b < order.length; b++) {
      const j = order[b];
      if (suppressed[j]) continue;
      const w = Math.max(0, f(Math.min(ix2, boxes[4 * j + 2]) - Math.max(ix1, boxes[4 * j])));
      const h = Math.max(0, f(Math.min(iy2, boxes[4 * j + 3]) - Math.max(iy1, boxes[4 * j + 1])));
      const inter = f(w * h);
      const iou = f(inter / f(f(areas[i] + areas[j]) - inter));
      if (iou > iouThresh) suppressed[j] = 1;
    }
  }
  return keep;
}

/**
 * NMS done independently per group (`groups[i]`: class or level of box i), as torchvision's
 * `batched_nms`. Like torchvision on CPU, up to 1000 boxes use the coordinate trick (each group's
 * boxes shifted by group * (max coordinate + 1), in float32, then one NMS) and more use one NMS
 * per group; either way the result is sorted by descending score.
 */
export function batchedNms(
  boxes: Float32Array,
  scores: ArrayLike<number>,
  groups: ArrayLike<number>,
  iouThresh: number,
): number[] {
  const n = numBoxes(boxes);
  if (n === 0) return [];
  if (boxes.length <= 4000) {
    let maxCoordinate = -Infinity;
    for (let i = 0; i < boxes.length; i++) maxCoordinate = Math.max(maxCoordinate, boxes[i]);
    const shifted = new Float32Array(boxes.length);
    for (let i = 0; i < n; i++) {
      const offset = f(groups[i] * f(maxCoordinate + 1));
      for (let k = 0; k < 4; k++) shifted[4 * i + k] = f(boxes[4 * i + k] + offset);
    }
    return nms(shifted, scores, iouThresh);
  }
  const byGroup = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const list = byGroup.get(groups[i]);
    if (list) list.push(i);
    else byGroup.set(groups[i], [i]);
  }
  const allScores = Float32Array.from(scores);
  const keep: number[] = [];
  for (const members of byGroup.values()) {
    const kept = nms(selectBoxes(boxes, members), selectValues(allScores, members), iouThresh);
    for (const k of kept) keep.push(members[k]);
  }
  keep.sort((i, j) => scores[j] - scores[i] || i - j);
  return keep;
}
