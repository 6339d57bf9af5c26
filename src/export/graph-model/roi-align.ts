// MultiScaleRoIAlign as a graph. RoIAlign's samples are bilinear reads of the feature map on a
// regular grid per bin, which CropAndResize computes when given the first and last sample point of
// each RoI; torchvision's border rule (a sample in [-1, 0] reads row 0, one in [H-1, H] reads row
// H-1, one beyond is 0) is CropAndResize's (0 outside [0, H'-1]) on the map padded by one
// edge-replicated pixel, with the points shifted by one.
// - A fixed sample count per bin (samplingRatio > 0): one crop of P*grid points per axis and RoI,
//   then a grid x grid average pool.
// - Adaptive sampling (samplingRatio <= 0: ceil(bin size) points per bin side, a different count
//   for each RoI and axis): the sample with offset (i, j) inside its bin, taken in every bin of a
//   RoI, is a P x P grid with the bin size as its step. So each RoI becomes one P x P crop per
//   offset it samples (i < its grid rows, j < its grid columns), and SparseSegmentMean averages a
//   RoI's crops: the mean over exactly gridH * gridW samples per bin, as torchvision divides.
import type { RoIHeadConfig } from '../../models/faster-rcnn/config.js';
import { attr } from './graph.js';
import type { Ops } from './ops.js';

type RoIAlignConfig = Pick<RoIHeadConfig, 'outputSize' | 'samplingRatio' | 'aligned'>;

/** Per RoI (`[n, 1]` each) on one axis: the RoI's start and extent in feature pixels, torchvision's float32 steps. */
function axisExtent(o: Ops, boxes: string, lo: number, hi: number, scale: string, config: RoIAlignConfig): { start: string; extent: string } {
  const coord = (k: number) => o.slice(boxes, [0, k], [-1, 1]);
  const offset = o.f(config.aligned ? 0.5 : 0);
  const start = o.sub(o.mul(coord(lo), scale), offset);
  const extent = o.sub(o.sub(o.mul(coord(hi), scale), offset), start);
  return { start, extent: config.aligned ? extent : o.max(extent, o.f(1)) };
}

/** RoIAlign of `boxes` `[n, 4]` (resized-image pixels) on one `[1, h, w, C]` map at `scale` (a scalar tensor). */
export function roiAlignGraph(o: Ops, feature: string, boxes: string, scale: string, config: RoIAlignConfig): string {
  const paddedMap = o.g.op('MirrorPad', [feature, o.g.const(Int32Array.of(0, 0, 1, 1, 1, 1, 0, 0), [4, 2], 'one', 'int32')], {
    T: attr.type('float32'),
    Tpaddings: attr.type('int32'),
    mode: attr.str('SYMMETRIC'),
  });
  const mapSize = o.cast(o.slice(o.shape(paddedMap), [1], [2], 'int32'), 'float32', 'int32');
  // a sample point (feature pixels) as CropAndResize's coordinate on the padded map: (v + 1) / (size' - 1)
  const denominators = [0, 1].map((i) => o.sub(o.reshape(o.slice(mapSize, [i], [1]), []), o.f(1)));
  const toCrop = (v: string, axis: 0 | 1) => o.div(o.add(v, o.f(1)), denominators[axis]);
  const y = axisExtent(o, boxes, 1, 3, scale, config);
  const x = axisExtent(o, boxes, 0, 2, scale, config);
  const cropAndResize = (corners: string[], size: number) => {
    const normalised = o.concat(corners, 1);
    const boxIndex = o.cast(o.mul(o.reshape(o.slice(normalised, [0, 0], [-1, 1]), [-1]), o.f(0)), 'int32', 'float32');
    return o.g.op('CropAndResize', [paddedMap, normalised, boxIndex, o.ints([size, size])], {
      T: attr.type('float32'),
      method: attr.str('bilinear'),
      extrapolation_value: attr.float(0),
    });
  };
  const p = config.outputSize;
  const grid = config.samplingRatio;
  if (grid > 0) {
    const n = p * grid;
    // per axis: the first and the last of the n sample points
    const span = (a: { start: string; extent: string }, axis: 0 | 1) => {
      const step = o.div(o.div(a.extent, o.f(p)), o.f(grid));
      const first = o.add(a.start, o.mul(o.f(0.5), step));
      return { first: toCrop(first, axis), last: toCrop(o.add(first, o.mul(o.f(n - 1), step)), axis) };
    };
    const [sy, sx] = [span(y, 0), span(x, 1)];
    const crops = cropAndResize([sy.first, sx.first, sy.last, sx.last], n);
    return grid === 1 ? crops : o.pool('AvgPool', crops, [grid, grid], [grid, grid]);
  }
  return o.g.scope('adaptive', () => {
    const binY = o.div(y.extent, o.f(p));
    const binX = o.div(x.extent, o.f(p));
    // torchvision: ceil(roi size / P) samples per bin side (0 for an empty RoI: its bins are 0)
    const gridY = o.ceil(binY);
    const gridX = o.ceil(binX);
    // offsets 0 .. (the largest grid over these RoIs) - 1 on each axis
    const offsets = (g: string) => {
      const bound = o.reduceMax(o.concat([o.reshape(g, [-1]), o.g.const(Float32Array.of(1), [1], 'one')], 0), [0], false);
      return o.cast(o.range(o.i(0), o.cast(bound, 'int32', 'float32'), o.i(1)), 'float32', 'int32');
    };
    // (RoI, i, j) for every i < gridY and j < gridX of that RoI, RoI-major
    const wanted = o.and(o.greater(o.reshape(gridY, [-1, 1, 1]), o.reshape(offsets(gridY), [1, -1, 1])), o.greater(o.reshape(gridX, [-1, 1, 1]), o.reshape(offsets(gridX), [1, 1, -1])));
    const coords = o.whereCoords(wanted);
    const roi = o.reshape(o.slice(coords, [0, 0], [-1, 1], 'int32'), [-1], 'int32');
    const offset = (k: number) => o.cast(o.slice(coords, [0, k], [-1, 1], 'int32'), 'float32', 'int32');
    const perRoi = o.gatherRows(o.concat([y.start, binY, gridY, x.start, binX, gridX], 1), roi, [6]);
    const column = (k: number) => o.slice(perRoi, [0, k], [-1, 1]);
    // first and last sample point: start + ph * bin + (i + 0.5) * bin / grid at ph = 0 and P - 1
    const span = (k: number, i: string, axis: 0 | 1) => {
      const [start, bin, g] = [column(k), column(k + 1), column(k + 2)];
      const inBin = o.div(o.mul(o.add(i, o.f(0.5)), bin), g);
      return { first: toCrop(o.add(start, inBin), axis), last: toCrop(o.add(o.add(start, o.mul(o.f(p - 1), bin)), inBin), axis) };
    };
    const [sy, sx] = [span(0, offset(1), 0), span(3, offset(2), 1)];
    // one more crop, of segment n, so that the segments always end at n (SparseSegmentMean's
    // output has last segment + 1 rows) and RoIs with no sample at the end still get their row
    const count = o.slice(o.shape(boxes), [0], [1], 'int32');
    const spare = o.g.const(new Float32Array(1), [1, 1], 'zero');
    const crops = cropAndResize([o.concat([sy.first, spare], 0), o.concat([sx.first, spare], 0), o.concat([sy.last, spare], 0), o.concat([sx.last, spare], 0)], p);
    const segments = o.concat([roi, count], 0, 'int32');
    const pooled = o.g.op('SparseSegmentMean', [crops, o.range(o.i(0), o.size(segments, 'int32'), o.i(1)), segments], {
      T: attr.type('float32'),
      Tidx: attr.type('int32'),
      Tsegmentids: attr.type('int32'),
    });
    return o.slice(pooled, o.ints([0, 0, 0, 0]), o.concat([count, o.ints([-1, -1, -1])], 0, 'int32'));
  });
}

/**
 * torchvision's MultiScaleRoIAlign: each RoI pooled from the level its size maps to (LevelMapper,
 * scales inferred from the feature and image sizes), in the RoIs' order. `strides` are the pooled
 * levels' nominal strides: levels of one stride share one scale, so then every RoI goes to the first.
 */
export function multiScaleRoIAlignGraph(o: Ops, config: RoIHeadConfig, features: string[], strides: number[], channels: number, boxes: string, resized: string): string {
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
