// The RPN as a graph (src/models/faster-rcnn/rpn.ts and anchors.ts): the head on every level, anchors
// from each level's size (torchvision: stride = padded size // feature size; mmdetection: the
// configured stride), then torchvision's filter_proposals: per-level top-k by objectness, decode,
// clip, drop small boxes, score threshold, NMS per level (the coordinate trick), best post-NMS top-n.
import { anchorsPerLocation, cellAnchors } from '../../models/faster-rcnn/anchors.js';
import type { RPNConfig } from '../../models/faster-rcnn/config.js';
import { BBOX_XFORM_CLIP } from '../../models/faster-rcnn/config.js';
import type { Ops } from './ops.js';
import type { GraphWeights } from './weights.js';

/** BoxCoder.decode: `deltas` `[..., 4]` on `references` `[..., 4]` (broadcasting), float32 steps as torchvision. */
export function decodeGraph(o: Ops, deltas: string, references: string, weights: readonly number[], lastAxis: number): string {
  const part = (x: string, k: number, rank: number) => {
    const begin = new Array(rank).fill(0);
    const size = new Array(rank).fill(-1);
    begin[rank - 1] = k;
    size[rank - 1] = 1;
    return o.slice(x, begin, size);
  };
  const rank = lastAxis + 1;
  const [rx1, ry1, rx2, ry2] = [0, 1, 2, 3].map((k) => part(references, k, rank));
  const w = o.sub(rx2, rx1);
  const h = o.sub(ry2, ry1);
  const cx = o.add(rx1, o.mul(o.f(0.5), w));
  const cy = o.add(ry1, o.mul(o.f(0.5), h));
  const clip = o.f(Math.fround(BBOX_XFORM_CLIP));
  const [dx, dy, dw, dh] = [0, 1, 2, 3].map((k) => o.div(part(deltas, k, rank), o.f(weights[k])));
  const px = o.add(o.mul(dx, w), cx);
  const py = o.add(o.mul(dy, h), cy);
  const halfW = o.mul(o.f(0.5), o.mul(o.exp(o.min(dw, clip)), w));
  const halfH = o.mul(o.f(0.5), o.mul(o.exp(o.min(dh, clip)), h));
  return o.concat([o.sub(px, halfW), o.sub(py, halfH), o.add(px, halfW), o.add(py, halfH)], lastAxis);
}

/** Clamps `[..., 4]` boxes to `[0, w] x [0, h]`; `size` is `[h, w]` (float32). */
export function clipGraph(o: Ops, boxes: string, size: string): string {
  const wh = o.gather(size, o.ints([1, 0, 1, 0]), 0);
  return o.min(o.max(boxes, o.f(0)), wh);
}

/** Mask of the rows of `[n, 4]` boxes whose width and height are both >= minSize. */
export function bigEnough(o: Ops, boxes: string, minSize: number): string {
  const wh = o.sub(o.slice(boxes, [0, 2], [-1, 2]), o.slice(boxes, [0, 0], [-1, 2]));
  return o.greaterEqual(o.reduceMin(wh, [1], false), o.f(minSize));
}

/** torchvision's batched_nms by the coordinate trick: boxes of group g shifted by g * (max + 1). */
export function batchedNmsGraph(o: Ops, boxes: string, scores: string, groups: string, iou: number, maxOut: number): string {
  const maxCoordinate = o.reduceMax(boxes, [0, 1], false);
  const offsets = o.mul(groups, o.add(maxCoordinate, o.f(1)));
  const shifted = o.add(boxes, o.reshape(offsets, [-1, 1]));
  return o.g.op('NonMaxSuppressionV3', [shifted, scores, o.i(maxOut), o.f(iou), o.f(-1)], { T: { type: 'DT_FLOAT' }, T_threshold: { type: 'DT_FLOAT' } });
}

export interface RpnGraphInput {
  features: string[];
  /** Strides of the levels (mmdetection anchors use the configured ones). */
  padded: string;
  resized: string;
}

/** Proposals `[n, 4]` in resized-image pixels, best first. */
export function proposalsGraph(o: Ops, w: GraphWeights, config: RPNConfig, { features, padded, resized }: RpnGraphInput): string {
  return o.g.scope('rpn', () => {
    const conv = (x: string, prefix: string, relu = false) => {
      const k = w.tensor(`${prefix}.weight`);
      return o.conv(x, w.constant(`${prefix}.weight`), { stride: 1, pad: Math.floor(k.shape[0] / 2), bias: w.constant(`${prefix}.bias`), relu });
    };
    const logits: string[] = [];
    const deltas: string[] = [];
    const anchors: string[] = [];
    const levels: string[] = [];
    features.forEach((x, level) => {
      o.g.scope(`level${level}`, () => {
        const t = conv(x, 'conv', true);
        const obj = o.reshape(conv(t, 'objectness'), [-1]);
        const del = o.reshape(conv(t, 'deltas'), [-1, 4]);
        const anc = anchorsGraph(o, config, level, x, padded);
        const k = o.min(o.i(config.preNmsTopN.test), o.size(obj), 'int32');
        const top = o.topk(obj, k);
        logits.push(top.values);
        deltas.push(o.gather(del, top.indices, 0));
        anchors.push(o.gather(anc, top.indices, 0));
        levels.push(o.add(o.mul(top.values, o.f(0)), o.f(level)));
      });
    });
    const boxes = clipGraph(o, decodeGraph(o, o.concat(deltas, 0), o.concat(anchors, 0), config.bboxRegWeights, 1), resized);
    const scores = o.sigmoid(o.concat(logits, 0));
    const keep = o.where(o.and(bigEnough(o, boxes, config.minSize), o.greaterEqual(scores, o.f(config.scoreThresh))));
    const kept = { boxes: o.gather(boxes, keep, 0), scores: o.gather(scores, keep, 0), levels: o.gather(o.concat(levels, 0), keep, 0) };
    const nms = batchedNmsGraph(o, kept.boxes, kept.scores, kept.levels, config.nmsThresh, config.postNmsTopN.test);
    return o.gatherRows(kept.boxes, nms, [4]);
  });
}

/** One level's anchors `[h * w * A, 4]`, ordered as the head's NHWC outputs. */
function anchorsGraph(o: Ops, config: RPNConfig, level: number, feature: string, padded: string): string {
  const a = config.anchors;
  const cell = o.g.const(cellAnchors(a, level), [1, 1, anchorsPerLocation(a, level), 4], 'cell_anchors');
  const size = o.slice(o.shape(feature), [1], [2], 'int32');
  const stride = a.type === 'torchvision' ? o.floorDivInt(padded, size) : o.ints([a.strides[level], a.strides[level]]);
  const axis = (k: number, shape: number[]) => {
    const n = o.reshape(o.slice(size, [k], [1], 'int32'), [], 'int32');
    const s = o.reshape(o.slice(stride, [k], [1], 'int32'), [], 'int32');
    return o.reshape(o.cast(o.mulInt(o.range(o.i(0), n, o.i(1)), s), 'float32', 'int32'), shape);
  };
  const ys = axis(0, [-1, 1, 1, 1]);
  const xs = axis(1, [1, -1, 1, 1]);
  const zero = o.add(o.mul(ys, o.f(0)), o.mul(xs, o.f(0)));
  const sx = o.add(xs, zero);
  const sy = o.add(ys, zero);
  return o.reshape(o.add(o.concat([sx, sy, sx, sy], 3), cell), [-1, 4]);
}
