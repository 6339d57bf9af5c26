// MultiScaleRoIAlign as a graph. RoIAlign's samples are bilinear reads of the feature map on a
// regular grid per bin, which CropAndResize computes when given the first and last sample point of
// each RoI; torchvision's border rule (a sample in [-1, 0] reads row 0, one in [H-1, H] reads row
// H-1, one beyond is 0) is CropAndResize's (0 outside [0, H'-1]) on the map padded by one
// edge-replicated pixel, with the points shifted by one. Averaging each bin's grid x grid samples
// is an average pool. The sample count per bin must be fixed (samplingRatio > 0): adaptive
// sampling would need a per-RoI crop size.
import type { RoIHeadConfig } from '../../models/detection/config.js';
import { UnsupportedOpError } from './graph.js';
import type { Ops } from './ops.js';

/** RoIAlign of `boxes` `[n, 4]` (resized-image pixels) on one `[1, h, w, C]` map at `scale` (a scalar tensor). */
export function roiAlignGraph(o: Ops, feature: string, boxes: string, scale: string, config: Pick<RoIHeadConfig, 'outputSize' | 'samplingRatio' | 'aligned'>): string {
  const p = config.outputSize;
  const grid = config.samplingRatio;
  const n = p * grid;
  const paddedMap = o.g.op('MirrorPad', [feature, o.g.const(Int32Array.of(0, 0, 1, 1, 1, 1, 0, 0), [4, 2], 'one', 'int32')], {
    T: { type: 'DT_FLOAT' },
    Tpaddings: { type: 'DT_INT32' },
    mode: { s: Buffer.from('SYMMETRIC').toString('base64') },
  });
  const mapSize = o.cast(o.slice(o.shape(paddedMap), [1], [2], 'int32'), 'float32', 'int32');
  const offset = o.f(config.aligned ? 0.5 : 0);
  const coord = (k: number) => o.slice(boxes, [0, k], [-1, 1]);
  // per axis: [first, last] sample point + 1, divided by (padded size - 1)
  const axis = (lo: number, hi: number, sizeIndex: number) => {
    const start = o.sub(o.mul(coord(lo), scale), offset);
    let extent = o.sub(o.sub(o.mul(coord(hi), scale), offset), start);
    if (!config.aligned) extent = o.max(extent, o.f(1));
    const step = o.div(o.div(extent, o.f(p)), o.f(grid));
    const first = o.add(start, o.mul(o.f(0.5), step));
    const last = o.add(first, o.mul(o.f(n - 1), step));
    const denominator = o.sub(o.reshape(o.slice(mapSize, [sizeIndex], [1]), []), o.f(1));
    return { first: o.div(o.add(first, o.f(1)), denominator), last: o.div(o.add(last, o.f(1)), denominator) };
  };
  const y = axis(1, 3, 0);
  const x = axis(0, 2, 1);
  const normalised = o.concat([y.first, x.first, y.last, x.last], 1);
  const boxIndex = o.cast(o.mul(o.reshape(coord(0), [-1]), o.f(0)), 'int32', 'float32');
  const crops = o.g.op('CropAndResize', [paddedMap, normalised, boxIndex, o.ints([n, n])], {
    T: { type: 'DT_FLOAT' },
    method: { s: Buffer.from('bilinear').toString('base64') },
    extrapolation_value: { f: 0 },
  });
  return grid === 1 ? crops : o.pool('AvgPool', crops, [grid, grid], [grid, grid]);
}

/**
 * torchvision's MultiScaleRoIAlign: each RoI pooled from the level its size maps to (LevelMapper,
 * scales inferred from the feature and image sizes), in the RoIs' order. `strides` are the pooled
 * levels' nominal strides: levels of one stride share one scale, so then every RoI goes to the first.
 */
export function multiScaleRoIAlignGraph(o: Ops, config: RoIHeadConfig, features: string[], strides: number[], channels: number, boxes: string, resized: string): string {
  if (!(config.samplingRatio > 0)) {
    throw new UnsupportedOpError('CropAndResize with a per-RoI crop size', 'roi_head (RoIAlign)', `samplingRatio ${config.samplingRatio} samples ceil(RoI size / ${config.outputSize}) points per bin, a different count for each RoI`);
  }
  return o.g.scope('roi_align', () => {
    const imageHeight = o.reshape(o.slice(resized, [0], [1]), []);
    const log2 = (x: string) => o.div(o.log(x), o.f(Math.fround(Math.LN2)));
    // torchvision's _infer_scale: 2^round(log2(feature height / image height))
    const exponents = features.map((f) => o.round(log2(o.div(o.cast(o.reshape(o.slice(o.shape(f), [1], [1], 'int32'), []), 'float32', 'int32'), imageHeight))));
    const scales = exponents.map((e) => o.g.op('Pow', [o.f(2), e], { T: { type: 'DT_FLOAT' } }));
    if (strides.every((s) => s === strides[0])) return roiAlignGraph(o, features[0], boxes, scales[0], config);
    // LevelMapper: floor(k0 + log2(sqrt(area) / s0) + 1e-6), clamped to [kMin, kMax], minus kMin
    const kMin = o.neg(exponents[0]);
    const kMax = o.neg(exponents[exponents.length - 1]);
    const wh = o.sub(o.slice(boxes, [0, 2], [-1, 2]), o.slice(boxes, [0, 0], [-1, 2]));
    const area = o.mul(o.slice(wh, [0, 0], [-1, 1]), o.slice(wh, [0, 1], [-1, 1]));
    const k = o.floor(o.add(o.add(o.f(config.canonicalLevel), log2(o.div(o.sqrt(area), o.f(config.canonicalScale)))), o.f(Math.fround(1e-6))));
    const level = o.reshape(o.sub(o.min(o.max(k, kMin), kMax), kMin), [-1]);
    const pieces: string[] = [];
    const order: string[] = [];
    features.forEach((f, l) => {
      const members = o.where(o.g.op('Equal', [level, o.f(l)], { T: { type: 'DT_FLOAT' } }));
      pieces.push(roiAlignGraph(o, f, o.gatherRows(boxes, members, [4]), scales[l], config));
      order.push(members);
    });
    // rows of the concatenation back in the RoIs' order: the positions sorted by RoI index
    const placed = o.cast(o.concat(order, 0, 'int32'), 'float32', 'int32');
    const inverse = o.topk(o.neg(placed), o.size(placed)).indices;
    return o.gatherRows(o.concat(pieces, 0), inverse, [config.outputSize, config.outputSize, channels]);
  });
}
