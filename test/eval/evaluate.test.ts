import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CocoDataset } from '../../src/data/dataset.js';
import { writeShapesDataset } from '../../src/data/shapes.js';
import { type ImageDetections, evaluateDataset } from '../../src/eval/evaluate.js';
import { writeMetrics } from '../../src/eval/metrics.js';

let tmp = '';
let ds: CocoDataset;
before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'torchport-evaluate-'));
  await writeShapesDataset(join(tmp, 's'), { train: 1, val: 12, size: 64, seed: 11 });
  ds = await CocoDataset.load({ annFile: join(tmp, 's/annotations/instances_val.json'), imgDir: join(tmp, 's/val') });
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A "detector" that returns the ground truth of each image (matched by size order), shifted by `dx`. */
function oracle(dx: number) {
  let next = 0;
  return async (images: { height: number }[]): Promise<ImageDetections[]> =>
    images.map(() => {
      const item = ds.items[next++];
      const boxes = item.boxes.map((v, k) => (k % 2 === 0 ? v + dx : v));
      return { boxes, scores: Float32Array.from(item.labels, () => 0.9), labels: item.labels.slice() };
    });
}

test('perfect detections give AP 1 for every class; metrics.json has mmdetection names', async () => {
  const ev = await evaluateDataset(ds, oracle(0), { batchSize: 5 });
  assert.equal(ev.detections.length, ds.coco.annotations.length);
  assert.ok(Math.abs((ev.metrics.bbox_mAP as number) - 1) < 1e-12);
  for (const name of ['rectangle', 'ellipse', 'triangle']) {
    const ap = ev.metrics[`bbox_${name}_precision`];
    assert.ok(ap === null || Math.abs((ap as number) - 1) < 1e-12, `${name}: ${ap}`);
  }
  const file = join(tmp, 'work', 'metrics.json');
  writeMetrics(file, ev.metrics, { epoch: 3 });
  const written = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(written.epoch, 3);
  assert.deepEqual(Object.keys(written).slice(1, 7), ['bbox_mAP', 'bbox_mAP_50', 'bbox_mAP_75', 'bbox_mAP_s', 'bbox_mAP_m', 'bbox_mAP_l']);
  assert.ok(existsSync(file));
});

test('boxes shifted sideways lose AP at strict IoU thresholds only', async () => {
  const ev = await evaluateDataset(ds, oracle(3));
  const [map, map50] = ev.result.stats;
  assert.ok(map < 1 && map > 0, `mAP ${map}`);
  assert.ok(map50 > map);
  assert.deepEqual(ev.detections[0].bbox.length, 4);
});
