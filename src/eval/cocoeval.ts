// COCO box evaluation with the semantics of pycocotools' COCOeval (cocoapi PythonAPI
// pycocotools/cocoeval.py, iouType 'bbox', useCats 1), step by step:
// - per (image, category): detections sorted by score (stable), at most maxDets[-1] kept;
// - IoU of [x, y, w, h] boxes as maskApi's bbIou: for a crowd ground truth the union is the
//   detection's area; no +1 on widths;
// - ground truth is ignored when crowd or when its `area` (the annotation's field, not the box) is
//   outside the area range; ignored ground truth is sorted last, and a detection matched to it is
//   ignored too;
// - greedy matching in score order at each IoU threshold: the best unmatched ground truth with
//   IoU >= min(t, 1 - 1e-10); crowd ground truth can match many detections; once a detection has a
//   non-ignored match, ignored candidates are not considered;
// - unmatched detections outside the area range are ignored;
// - accumulate per (category, area, maxDets) over images: scores sorted (stable, images in id
//   order), cumulative TP/FP, precision made monotone from the right, sampled at 101 recall points
//   with searchsorted(side='left'), zero beyond the last recall reached; categories with no
//   non-ignored ground truth stay -1 and are left out of the means;
// - the 12 summary numbers are means over the entries > -1 (or -1 when there are none).
// One deliberate difference: matches are booleans, where pycocotools stores the matched id and so
// treats a ground truth with id 0 as unmatched.

import { InputError } from '../errors.js';
import type { CocoAnnotation, CocoJson } from '../data/coco.js';

/** A detection in COCO's results format. */
export interface CocoDetection {
  image_id: number;
  category_id: number;
  /** [x, y, width, height] in original-image pixels. */
  bbox: [number, number, number, number];
  score: number;
}

export interface EvalParams {
  iouThrs: number[];
  recThrs: number[];
  maxDets: number[];
  areaRanges: { label: string; range: [number, number] }[];
}

/** numpy.linspace(start, stop, num), value for value. */
export function linspace(start: number, stop: number, num: number): number[] {
  const step = (stop - start) / (num - 1);
  const out = Array.from({ length: num }, (_, i) => i * step + start);
  out[num - 1] = stop;
  return out;
}

export function defaultParams(): EvalParams {
  return {
    iouThrs: linspace(0.5, 0.95, Math.round((0.95 - 0.5) / 0.05) + 1),
    recThrs: linspace(0, 1, Math.round((1 - 0) / 0.01) + 1),
    maxDets: [1, 10, 100],
    areaRanges: [
      { label: 'all', range: [0, 1e10] },
      { label: 'small', range: [0, 32 ** 2] },
      { label: 'medium', range: [32 ** 2, 96 ** 2] },
      { label: 'large', range: [96 ** 2, 1e10] },
    ],
  };
}

export interface CocoEvalResult {
  params: EvalParams;
  imageIds: number[];
  categoryIds: number[];
  /** [T][R][K][A][M] flattened in that order; -1 where there was no ground truth. */
  precision: Float64Array;
  /** [T][K][A][M] flattened; -1 where there was no ground truth. */
  recall: Float64Array;
  /** The standard 12 numbers, in pycocotools' `stats` order. */
  stats: number[];
  /** Per category: mean precision at area 'all', the largest maxDets (NaN without ground truth). */
  perCategoryAP: { categoryId: number; name: string; ap: number }[];
}

interface Det {
  bbox: readonly number[];
  score: number;
  area: number;
}

interface ImageEval {
  /** [T][D] for the sorted, truncated detections. */
  dtMatched: Uint8Array[];
  dtIgnore: Uint8Array[];
  dtScores: number[];
  gtIgnore: Uint8Array;
}

/** IoU matrix [D][G] as maskApi's bbIou computes it. */
export function boxIoU(dts: readonly (readonly number[])[], gts: readonly (readonly number[])[], crowd: readonly boolean[]): number[][] {
  return dts.map((d) => {
    const da = d[2] * d[3];
    return gts.map((g, j) => {
      const w = Math.min(d[0] + d[2], g[0] + g[2]) - Math.max(d[0], g[0]);
      if (w <= 0) return 0;
      const h = Math.min(d[1] + d[3], g[1] + g[3]) - Math.max(d[1], g[1]);
      if (h <= 0) return 0;
      const inter = w * h;
      const union = crowd[j] ? da : da + g[2] * g[3] - inter;
      return inter / union;
    });
  });
}

/** Indices that sort `keys` ascending, stable (numpy's argsort kind='mergesort'). */
function stableArgsort(keys: readonly number[]): number[] {
  return keys.map((_, i) => i).sort((a, b) => keys[a] - keys[b] || a - b);
}

function evaluateImage(
  gts: readonly CocoAnnotation[],
  dtsSorted: readonly Det[],
  ious: number[][],
  range: readonly [number, number],
  maxDet: number,
  iouThrs: readonly number[],
): ImageEval | undefined {
  if (gts.length === 0 && dtsSorted.length === 0) return undefined;
  const ignoreFlags = gts.map((g) => (g.iscrowd || g.area < range[0] || g.area > range[1] ? 1 : 0));
  const gtOrder = stableArgsort(ignoreFlags);
  const gt = gtOrder.map((i) => gts[i]);
  const gtIgnore = Uint8Array.from(gtOrder.map((i) => ignoreFlags[i]));
  const crowd = gt.map((g) => g.iscrowd === 1);
  const dt = dtsSorted.slice(0, maxDet);
  const dtMatched: Uint8Array[] = [];
  const dtIgnore: Uint8Array[] = [];
  for (const t of iouThrs) {
    const gtm = new Uint8Array(gt.length);
    const dtm = new Uint8Array(dt.length);
    const dtIg = new Uint8Array(dt.length);
    dt.forEach((d, di) => {
      let best = Math.min(t, 1 - 1e-10);
      let m = -1;
      for (let gi = 0; gi < gt.length; gi++) {
        if (gtm[gi] && !crowd[gi]) continue;
        if (m > -1 && gtIgnore[m] === 0 && gtIgnore[gi] === 1) break;
        const iou = ious[di][gtOrder[gi]];
        if (iou < best) continue;
        best = iou;
        m = gi;
      }
      if (m === -1) {
        if (d.area < range[0] || d.area > range[1]) dtIg[di] = 1;
        return;
      }
      dtIg[di] = gtIgnore[m];
      dtm[di] = 1;
      gtm[m] = 1;
    });
    dtMatched.push(dtm);
    dtIgnore.push(dtIg);
  }
  return { dtMatched, dtIgnore, dtScores: dt.map((d) => d.score), gtIgnore };
}

/** Evaluates `detections` against the ground truth `gt` (all its images and categories). */
export function evaluateDetections(gt: CocoJson, detections: readonly CocoDetection[], params: EvalParams = defaultParams()): CocoEvalResult {
  const imageIds = [...new Set(gt.images.map((im) => im.id))].sort((a, b) => a - b);
  const categoryIds = [...new Set(gt.categories.map((c) => c.id))].sort((a, b) => a - b);
  const imageSet = new Set(imageIds);
  for (const d of detections) {
    if (!imageSet.has(d.image_id)) throw new InputError(`detection for image ${d.image_id}, which is not in the ground truth`);
  }
  const key = (img: number, cat: number): string => `${img}:${cat}`;
  const gtsBy = new Map<string, CocoAnnotation[]>();
  for (const a of gt.annotations) {
    if (!imageSet.has(a.image_id)) continue;
    const k = key(a.image_id, a.category_id);
    (gtsBy.get(k) ?? gtsBy.set(k, []).get(k)!).push(a);
  }
  const dtsBy = new Map<string, Det[]>();
  for (const d of detections) {
    const k = key(d.image_id, d.category_id);
    (dtsBy.get(k) ?? dtsBy.set(k, []).get(k)!).push({ bbox: d.bbox, score: d.score, area: d.bbox[2] * d.bbox[3] });
  }

  const { iouThrs, recThrs, maxDets, areaRanges } = params;
  const T = iouThrs.length;
  const R = recThrs.length;
  const K = categoryIds.length;
  const A = areaRanges.length;
  const M = maxDets.length;
  const maxDetLast = maxDets[M - 1];
  const precision = new Float64Array(T * R * K * A * M).fill(-1);
  const recall = new Float64Array(T * K * A * M).fill(-1);

  categoryIds.forEach((cat, k) => {
    // Per image: detections sorted by score (stable) and truncated, and their IoUs, computed once.
    const perImage = imageIds.map((img) => {
      const gts = gtsBy.get(key(img, cat)) ?? [];
      const raw = dtsBy.get(key(img, cat)) ?? [];
      const dts = stableArgsort(raw.map((d) => -d.score)).slice(0, maxDetLast).map((i) => raw[i]);
      const ious = boxIoU(dts.map((d) => d.bbox), gts.map((g) => g.bbox), gts.map((g) => g.iscrowd === 1));
      return { gts, dts, ious };
    });
    areaRanges.forEach(({ range }, a) => {
      const evals = perImage
        .map(({ gts, dts, ious }) => evaluateImage(gts, dts, ious, range, maxDetLast, iouThrs))
        .filter((e): e is ImageEval => e !== undefined);
      if (evals.length === 0) return;
      maxDets.forEach((maxDet, m) => {
        const scores = evals.flatMap((e) => e.dtScores.slice(0, maxDet));
        const order = stableArgsort(scores.map((s) => -s));
        const npig = evals.reduce((n, e) => n + e.gtIgnore.filter((g) => g === 0).length, 0);
        if (npig === 0) return;
        for (let t = 0; t < T; t++) {
          const matched = evals.flatMap((e) => [...e.dtMatched[t].subarray(0, maxDet)]);
          const ignored = evals.flatMap((e) => [...e.dtIgnore[t].subarray(0, maxDet)]);
          const nd = order.length;
          const rc = new Float64Array(nd);
          const pr = new Array<number>(nd);
          let tp = 0;
          let fp = 0;
          order.forEach((i, j) => {
            if (!ignored[i]) {
              if (matched[i]) tp++;
              else fp++;
            }
            rc[j] = tp / npig;
            pr[j] = tp / (fp + tp + Number.EPSILON);
          });
          recall[((t * K + k) * A + a) * M + m] = nd ? rc[nd - 1] : 0;
          for (let i = nd - 1; i > 0; i--) if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
          let pi = 0;
          for (let r = 0; r < R; r++) {
            while (pi < nd && rc[pi] < recThrs[r]) pi++; // searchsorted(rc, recThrs, 'left')
            precision[(((t * R + r) * K + k) * A + a) * M + m] = pi < nd ? pr[pi] : 0;
          }
        }
      });
    });
  });

  const result: CocoEvalResult = { params, imageIds, categoryIds, precision, recall, stats: [], perCategoryAP: [] };
  result.stats = summarize(result);
  const names = new Map(gt.categories.map((c) => [c.id, c.name]));
  result.perCategoryAP = categoryIds.map((categoryId, k) => ({
    categoryId,
    name: names.get(categoryId) ?? String(categoryId),
    ap: meanValid(selectPrecision(result, { k, area: 'all', maxDet: maxDetLast })),
  }));
  return result;
}

function meanValid(values: number[]): number {
  const valid = values.filter((v) => v > -1);
  return valid.length ? valid.reduce((s, v) => s + v, 0) / valid.length : Number.NaN;
}

interface Selection {
  iouThr?: number;
  area: string;
  maxDet: number;
  /** One category index, or all when undefined. */
  k?: number;
}

function indices(r: CocoEvalResult, s: Selection): { ts: number[]; a: number; m: number; ks: number[] } {
  const p = r.params;
  const ts = p.iouThrs.map((_, i) => i).filter((i) => s.iouThr === undefined || Math.abs(p.iouThrs[i] - s.iouThr) < 1e-12);
  const a = p.areaRanges.findIndex((x) => x.label === s.area);
  const m = p.maxDets.indexOf(s.maxDet);
  const ks = s.k === undefined ? r.categoryIds.map((_, i) => i) : [s.k];
  return { ts, a, m, ks };
}

function selectPrecision(r: CocoEvalResult, s: Selection): number[] {
  const { ts, a, m, ks } = indices(r, s);
  if (a < 0 || m < 0) return [];
  const K = r.categoryIds.length;
  const A = r.params.areaRanges.length;
  const M = r.params.maxDets.length;
  const R = r.params.recThrs.length;
  const out: number[] = [];
  for (const t of ts) for (let rr = 0; rr < R; rr++) for (const k of ks) out.push(r.precision[(((t * R + rr) * K + k) * A + a) * M + m]);
  return out;
}

function selectRecall(r: CocoEvalResult, s: Selection): number[] {
  const { ts, a, m, ks } = indices(r, s);
  if (a < 0 || m < 0) return [];
  const K = r.categoryIds.length;
  const A = r.params.areaRanges.length;
  const M = r.params.maxDets.length;
  const out: number[] = [];
  for (const t of ts) for (const k of ks) out.push(r.recall[((t * K + k) * A + a) * M + m]);
  return out;
}

function summaryValue(values: number[]): number {
  const v = meanValid(values);
  return Number.isNaN(v) ? -1 : v;
}

/** The 12 standard numbers (COCOeval.summarize for bbox). */
function summarize(r: CocoEvalResult): number[] {
  const md = r.params.maxDets;
  const last = md[md.length - 1];
  const ap = (s: Selection): number => summaryValue(selectPrecision(r, s));
  const ar = (s: Selection): number => summaryValue(selectRecall(r, s));
  return [
    ap({ area: 'all', maxDet: last }),
    ap({ iouThr: 0.5, area: 'all', maxDet: last }),
    ap({ iouThr: 0.75, area: 'all', maxDet: last }),
    ap({ area: 'small', maxDet: last }),
    ap({ area: 'medium', maxDet: last }),
    ap({ area: 'large', maxDet: last }),
    ar({ area: 'all', maxDet: md[0] }),
    ar({ area: 'all', maxDet: md[1] }),
    ar({ area: 'all', maxDet: last }),
    ar({ area: 'small', maxDet: last }),
    ar({ area: 'medium', maxDet: last }),
    ar({ area: 'large', maxDet: last }),
  ];
}
