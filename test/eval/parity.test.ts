// The evaluator against real pycocotools: test/eval/fixtures/cocoeval_parity.json holds a ground
// truth (non-contiguous category ids, one without objects; crowd regions; annotation areas that
// differ from box areas; images without objects), detections (jittered hits, duplicates, false
// positives, tied scores, an image with 120 detections of one class), and what pycocotools 2.0.11's
// COCOeval computed for them (make_cocoeval_fixture.py beside it).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseCocoJson } from '../../src/data/coco.js';
import { type CocoDetection, evaluateDetections } from '../../src/eval/cocoeval.js';

const fixture = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'cocoeval_parity.json'), 'utf8')) as {
  groundTruth: unknown;
  detections: CocoDetection[];
  expected: {
    stats: number[];
    perCategoryAP: { categoryId: number; ap: number | null }[];
    precisionSamples: [number, number, number, number, number, number][];
    recall: number[];
  };
};

const result = evaluateDetections(parseCocoJson(JSON.stringify(fixture.groundTruth), 'fixture'), fixture.detections);
const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) <= 1e-12, `${what}: ${a} vs pycocotools ${b}`);

test('the 12 summary numbers equal pycocotools', () => {
  fixture.expected.stats.forEach((s, i) => close(result.stats[i], s, `stats[${i}]`));
});

test('per-category AP equals pycocotools (no ground truth → NaN / None)', () => {
  assert.deepEqual(result.categoryIds, fixture.expected.perCategoryAP.map((c) => c.categoryId));
  fixture.expected.perCategoryAP.forEach((c, k) => {
    if (c.ap === null) assert.ok(Number.isNaN(result.perCategoryAP[k].ap));
    else close(result.perCategoryAP[k].ap, c.ap, `category ${c.categoryId}`);
  });
});

test('accumulated precision and recall arrays equal pycocotools', () => {
  const R = 101;
  const K = result.categoryIds.length;
  const A = 4;
  const M = 3;
  for (const [t, r, k, a, m, v] of fixture.expected.precisionSamples) {
    close(result.precision[(((t * R + r) * K + k) * A + a) * M + m], v, `precision[${t},${r},${k},${a},${m}]`);
  }
  assert.equal(result.recall.length, fixture.expected.recall.length);
  fixture.expected.recall.forEach((v, i) => close(result.recall[i], v, `recall[${i}]`));
});
