// COCOeval semantics on hand-computed cases. Each expected number is worked out in the comment
// next to it from pycocotools' rules (see the header of src/eval/cocoeval.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CocoJson } from '../../src/data/coco.js';
import { type CocoDetection, boxIoU, defaultParams, evaluateDetections, linspace } from '../../src/eval/cocoeval.js';
import { formatSummary, toMetrics } from '../../src/eval/metrics.js';

type Box = [number, number, number, number];
interface GtSpec {
  image: number;
  cat?: number;
  box: Box;
  crowd?: boolean;
  area?: number;
}

function groundTruth(images: number[], anns: GtSpec[], cats = [1]): CocoJson {
  return {
    images: images.map((id) => ({ id, file_name: `${id}.png`, width: 1000, height: 1000 })),
    annotations: anns.map((a, i) => ({
      id: i + 1,
      image_id: a.image,
      category_id: a.cat ?? 1,
      bbox: a.box,
      area: a.area ?? a.box[2] * a.box[3],
      iscrowd: a.crowd ? 1 : 0,
    })),
    categories: cats.map((id) => ({ id, name: `c${id}` })),
  };
}

const det = (image: number, box: Box, score: number, cat = 1): CocoDetection => ({ image_id: image, category_id: cat, bbox: box, score });
// Precision is tp / (tp + fp + eps) as in pycocotools, so a perfect score is 1 - 2e-16, not 1.
const close = (a: number, b: number, msg?: string): void => assert.ok(Math.abs(a - b) < 1e-12, `${msg ?? ''} ${a} != ${b}`);
const closeAll = (a: readonly number[], b: readonly number[]): void => {
  assert.equal(a.length, b.length);
  a.forEach((v, i) => (Number.isNaN(b[i]) ? assert.ok(Number.isNaN(v)) : close(v, b[i], `[${i}]`)));
};

test('thresholds equal numpy.linspace values', () => {
  const p = defaultParams();
  assert.equal(p.iouThrs.length, 10);
  assert.equal(p.recThrs.length, 101);
  assert.equal(p.iouThrs[0], 0.5);
  assert.equal(p.iouThrs[9], 0.95);
  assert.equal(p.recThrs[50], 0.5);
  assert.deepEqual(linspace(0, 1, 3), [0, 0.5, 1]);
});

test('bbIou: plain and crowd unions, touching boxes', () => {
  const ious = boxIoU([[0, 0, 10, 10]], [[5, 0, 10, 10], [0, 0, 100, 100], [10, 0, 5, 5]], [false, true, false]);
  close(ious[0][0], 50 / 150); // overlap 5x10 over 100 + 100 - 50
  close(ious[0][1], 1); // crowd: intersection over the detection's own area
  assert.equal(ious[0][2], 0); // touching edges: zero width
});

test('a perfect detection: AP 1 where the object is, -1 for empty area ranges', () => {
  const r = evaluateDetections(groundTruth([1], [{ image: 1, box: [0, 0, 10, 10] }]), [det(1, [0, 0, 10, 10], 0.9)]);
  // area 100 is "small": small AP 1, medium/large have no ground truth (-1); AR@1 = 1.
  closeAll(r.stats, [1, 1, 1, 1, -1, -1, 1, 1, 1, 1, -1, -1]);
});

test('a false positive ranked below the true positive costs nothing, above it halves AP', () => {
  const gt = groundTruth([1], [{ image: 1, box: [0, 0, 10, 10] }]);
  const below = evaluateDetections(gt, [det(1, [0, 0, 10, 10], 0.9), det(1, [500, 500, 10, 10], 0.8)]);
  // rc = [1, 1], pr = [1, 0.5] → envelope [1, 0.5]; every recall point finds index 0 → 1.
  close(below.stats[0], 1);
  const above = evaluateDetections(gt, [det(1, [0, 0, 10, 10], 0.8), det(1, [500, 500, 10, 10], 0.9)]);
  // rc = [0, 1], pr = [0, 0.5] → envelope [0.5, 0.5]: 0.5 at every recall point.
  close(above.stats[0], 0.5);
});

test('IoU 0.64 counts at thresholds 0.50, 0.55, 0.60 only', () => {
  const r = evaluateDetections(groundTruth([1], [{ image: 1, box: [0, 0, 10, 10] }]), [det(1, [0, 0, 10, 6.4], 0.9)]);
  close(r.stats[0], 3 / 10); // AP 1 at 3 of 10 thresholds
  close(r.stats[1], 1); // AP50
  close(r.stats[2], 0); // AP75
  close(r.stats[8], 3 / 10); // AR100: recall 1 at 3 thresholds, 0 at 7
});

test('half the objects found: precision 1 up to recall 0.5 → AP = 51/101', () => {
  const gt = groundTruth([1], [{ image: 1, box: [0, 0, 10, 10] }, { image: 1, box: [100, 100, 10, 10] }]);
  const r = evaluateDetections(gt, [det(1, [0, 0, 10, 10], 0.9)]);
  // recall points 0, 0.01, ..., 0.50 (51 of 101) reach rc = 0.5 at index 0; the rest are 0.
  close(r.stats[0], 51 / 101);
  close(r.stats[8], 0.5);
});

test('maxDets: only the top detection per image and category counts for AR@1', () => {
  const gt = groundTruth([1], [{ image: 1, box: [0, 0, 10, 10] }, { image: 1, box: [100, 100, 10, 10] }]);
  const r = evaluateDetections(gt, [det(1, [0, 0, 10, 10], 0.9), det(1, [100, 100, 10, 10], 0.8)]);
  close(r.stats[6], 0.5); // AR@1
  close(r.stats[7], 1); // AR@10
  close(r.stats[8], 1); // AR@100
});

test('crowd regions: detections inside them are ignored, not false positives; crowd matches many', () => {
  const gt = groundTruth([1], [
    { image: 1, box: [0, 0, 10, 10] },
    { image: 1, box: [200, 200, 300, 300], crowd: true },
  ]);
  const inside = [det(1, [210, 210, 20, 20], 0.95), det(1, [300, 300, 20, 20], 0.94)];
  const r = evaluateDetections(gt, [...inside, det(1, [0, 0, 10, 10], 0.5)]);
  // Both high-scoring detections match the crowd region (IoU = 1 by the detection's area) and are
  // ignored; the only counted detection is the true positive: AP 1.
  close(r.stats[0], 1);
  close(r.stats[1], 1);
  // A detection that straddles the crowd edge with less than half its area inside is a false positive.
  const straddle = evaluateDetections(gt, [det(1, [180, 180, 30, 30], 0.95), det(1, [0, 0, 10, 10], 0.5)]);
  // overlap 10x10 = 100 of 900 → IoU 0.11: FP above the TP → AP 0.5 at every threshold.
  close(straddle.stats[0], 0.5);
});

test('a crowd ground truth alone gives no AP (-1): nothing to find', () => {
  const gt = groundTruth([1], [{ image: 1, box: [0, 0, 50, 50], crowd: true }]);
  const r = evaluateDetections(gt, [det(1, [0, 0, 50, 50], 0.9)]);
  assert.deepEqual(r.stats, Array(12).fill(-1));
});

test('empty cases: no detections → 0; no ground truth at all → -1; an empty image still adds false positives', () => {
  const gt = groundTruth([1, 2], [{ image: 1, box: [0, 0, 10, 10] }]);
  const none = evaluateDetections(gt, []);
  assert.deepEqual(none.stats, [0, 0, 0, 0, -1, -1, 0, 0, 0, 0, -1, -1]);
  const nothing = evaluateDetections(groundTruth([1], []), []);
  assert.deepEqual(nothing.stats, Array(12).fill(-1));
  // A false positive on image 2 (no objects) scores above the true positive on image 1.
  const fpOnEmpty = evaluateDetections(gt, [det(2, [0, 0, 10, 10], 0.9), det(1, [0, 0, 10, 10], 0.8)]);
  close(fpOnEmpty.stats[0], 0.5);
});

test('area ranges use the annotation area field; out-of-range detections are ignored', () => {
  // A 50x50 box (medium by box area) whose annotation area is 900 (small).
  const gt = groundTruth([1], [{ image: 1, box: [0, 0, 50, 50], area: 900 }, { image: 1, box: [100, 100, 120, 120] }]);
  const r = evaluateDetections(gt, [det(1, [0, 0, 50, 50], 0.9), det(1, [100, 100, 120, 120], 0.8)]);
  close(r.stats[3], 1); // small: the 50x50 object
  assert.equal(r.stats[4], -1); // medium: no ground truth with area in 32²..96²
  close(r.stats[5], 1); // large: the 120x120 object; the 50x50 detection is matched to an ignored gt
  // For "small", the unmatched large detection (area 14400) is outside the range: ignored, not a FP.
  const onlyLargeDet = evaluateDetections(gt, [det(1, [600, 600, 120, 120], 0.99), det(1, [0, 0, 50, 50], 0.5)]);
  close(onlyLargeDet.stats[3], 1);
});

test('per-category AP and the mean over categories; categories without ground truth are left out', () => {
  const gt = groundTruth([1], [{ image: 1, cat: 1, box: [0, 0, 10, 10] }, { image: 1, cat: 2, box: [100, 100, 10, 10] }], [1, 2, 3]);
  const r = evaluateDetections(gt, [
    det(1, [0, 0, 10, 10], 0.9, 1),
    det(1, [100, 100, 10, 10], 0.8, 2),
    det(1, [300, 300, 10, 10], 0.95, 2), // FP above the TP: category 2 AP 0.5
    det(1, [0, 0, 10, 10], 0.9, 3), // category 3 has no ground truth: -1, left out
  ]);
  close(r.stats[0], 0.75);
  assert.deepEqual(r.perCategoryAP.map((c) => c.name), ['c1', 'c2', 'c3']);
  closeAll(r.perCategoryAP.map((c) => c.ap), [1, 0.5, Number.NaN]);
  const m = toMetrics(r);
  close(m.bbox_mAP as number, 0.75);
  close(m.bbox_c2_precision as number, 0.5);
  assert.equal(m.bbox_c3_precision, null);
  assert.equal(m.bbox_mAP_copypaste, '0.750 0.750 0.750 0.750 -1.000 -1.000');
});

test('score ties keep image order (stable sort), as numpy mergesort does', () => {
  // Image 1: FP, image 2: TP, equal scores. Images are taken in id order: FP first → AP 0.5.
  const gt = groundTruth([1, 2], [{ image: 2, box: [0, 0, 10, 10] }]);
  const r = evaluateDetections(gt, [det(2, [0, 0, 10, 10], 0.5), det(1, [0, 0, 10, 10], 0.5)]);
  close(r.stats[0], 0.5);
});

test('a detection on an image outside the ground truth is an error, as in loadRes', () => {
  assert.throws(() => evaluateDetections(groundTruth([1], []), [det(7, [0, 0, 1, 1], 1)]), /image 7, which is not in the ground truth/);
});

test('the printed summary matches pycocotools line for line', () => {
  const r = evaluateDetections(groundTruth([1], [{ image: 1, box: [0, 0, 10, 10] }]), [det(1, [0, 0, 10, 10], 0.9)]);
  const lines = formatSummary(r).split('\n');
  assert.equal(lines.length, 12);
  assert.equal(lines[0], ' Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 1.000');
  assert.equal(lines[4], ' Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = -1.000');
  assert.equal(lines[6], ' Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 1.000');
});
