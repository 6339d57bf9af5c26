import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { formatBadDataReport } from '../../src/data/check.js';
import { type CocoJson, LabelMap, parseCocoJson } from '../../src/data/coco.js';
import { CocoDataset } from '../../src/data/dataset.js';
import { writeShapesDataset } from '../../src/data/shapes.js';

let root = '';
let coco: CocoJson;
const ann = (): string => join(root, 'annotations', 'instances_train.json');

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'torchport-data-'));
  await writeShapesDataset(join(root, 'shapes'), { train: 8, val: 2, size: 64, seed: 3 });
  root = join(root, 'shapes');
  coco = parseCocoJson(readFileSync(ann(), 'utf8'), 'x');
});
after(() => rmSync(join(root, '..'), { recursive: true, force: true }));

function withAnnotations(edit: (c: CocoJson) => void): string {
  const copy = structuredClone(coco);
  edit(copy);
  const file = join(root, 'annotations', `edited-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(copy));
  return file;
}

test('loads a COCO dataset: labels 1..K by category id, boxes as x1y1x2y2, crowd kept apart', async () => {
  const file = withAnnotations((c) => {
    c.categories.reverse(); // order in the file does not matter, ids do
    c.annotations.push({ id: 999, image_id: 1, category_id: 2, bbox: [1, 2, 10, 20], area: 200, iscrowd: 1 });
  });
  const ds = await CocoDataset.load({ annFile: file, imgDir: join(root, 'train') });
  assert.deepEqual(ds.labels.names, ['rectangle', 'ellipse', 'triangle']);
  assert.equal(ds.labels.numClasses, 4);
  const first = ds.items.find((i) => i.image.id === 1)!;
  const anns = coco.annotations.filter((a) => a.image_id === 1);
  assert.deepEqual([...first.labels], anns.map((a) => a.category_id)); // shapes' ids are 1..3 already
  assert.deepEqual([...first.boxes], anns.flatMap((a) => [a.bbox[0], a.bbox[1], a.bbox[0] + a.bbox[2], a.bbox[1] + a.bbox[3]]));
  assert.deepEqual([...first.crowdBoxes], [1, 2, 11, 22]);
  const sample = await ds.readSample(0);
  assert.equal(sample.image.length, 64 * 64 * 3);
  assert.ok(sample.image.every((v) => v >= 0 && v <= 1));
});

test('images without annotations: kept by default, dropped with filterEmpty', async () => {
  const file = withAnnotations((c) => {
    c.annotations = c.annotations.filter((a) => a.image_id !== 2);
  });
  const all = await CocoDataset.load({ annFile: file, imgDir: join(root, 'train') });
  assert.equal(all.length, coco.images.length);
  assert.equal(all.items.find((i) => i.image.id === 2)!.labels.length, 0);
  const filtered = await CocoDataset.load({ annFile: file, imgDir: join(root, 'train'), filterEmpty: true });
  assert.ok(!filtered.items.some((i) => i.image.id === 2));
});

test('bad data is reported with ids and stops loading; skipBad continues without it', async () => {
  const corrupt = join(root, 'train', 'corrupt.png');
  writeFileSync(corrupt, Buffer.from('not a png at all'));
  const file = withAnnotations((c) => {
    c.images.push({ id: 50, file_name: 'missing.png', width: 64, height: 64 });
    c.images.push({ id: 51, file_name: 'corrupt.png', width: 64, height: 64 });
    c.images.push({ id: 52, file_name: '000001.png', width: 100, height: 64 });
    c.annotations.push({ id: 100, image_id: 1, category_id: 1, bbox: [5, 5, 0, 10], area: 0, iscrowd: 0 });
    c.annotations.push({ id: 101, image_id: 1, category_id: 1, bbox: [60, 5, 20, 10], area: 200, iscrowd: 0 });
    c.annotations.push({ id: 102, image_id: 1, category_id: 9, bbox: [5, 5, 10, 10], area: 100, iscrowd: 0 });
    c.annotations.push({ id: 103, image_id: 77, category_id: 1, bbox: [5, 5, 10, 10], area: 100, iscrowd: 0 });
  });
  const imgDir = join(root, 'train');
  await assert.rejects(CocoDataset.load({ annFile: file, imgDir }), (err: Error) => {
    assert.equal(
      err.message,
      `${file}: 7 problem(s) in the data; fix them, or set data.skipBad = true (--skip-bad) to train without them:\n` +
        'missing image files (1):\n' +
        `  image 50 (${join(imgDir, 'missing.png')}): no such file\n` +
        'corrupt images (1):\n' +
        `  image 51 (${corrupt}): Input buffer contains unsupported image format\n` +
        'images whose size differs from the annotations (1):\n' +
        `  image 52 (${join(imgDir, '000001.png')}): file is 64x64, annotations say 100x64\n` +
        'bad boxes (2):\n' +
        '  annotation 100 (image 1): non-positive size (w=0, h=10)\n' +
        '  annotation 101 (image 1): outside the 64x64 image ([60, 5, 20, 10])\n' +
        'unknown category ids (1):\n' +
        '  annotation 102 (image 1): category id 9 is not in "categories"\n' +
        'annotations of unknown images (1):\n' +
        '  annotation 103 (image 77): image id 77 is not in "images"',
    );
    return true;
  });
  const ds = await CocoDataset.load({ annFile: file, imgDir, skipBad: true });
  assert.equal(ds.length, coco.images.length);
  assert.deepEqual(ds.coco.annotations.map((a) => a.id), coco.annotations.map((a) => a.id));
  assert.match(formatBadDataReport(ds.report, 0), /^missing image files \(1\):\n {2}\.\.\. and 1 more/);
  unlinkSync(corrupt);
});

test('boxes poking out by at most 1 px are clipped, not reported', async () => {
  const file = withAnnotations((c) => {
    c.annotations = [{ id: 1, image_id: 1, category_id: 1, bbox: [-0.5, 10, 65, 10], area: 650, iscrowd: 0 }];
  });
  const ds = await CocoDataset.load({ annFile: file, imgDir: join(root, 'train') });
  assert.deepEqual([...ds.items[0].boxes], [0, 10, 64, 20]);
  // ... unless clipping leaves nothing (torchvision rejects degenerate boxes in training).
  const sliver = withAnnotations((c) => {
    c.annotations = [{ id: 1, image_id: 1, category_id: 1, bbox: [-0.9, 10, 0.5, 10], area: 5, iscrowd: 0 }];
  });
  await assert.rejects(CocoDataset.load({ annFile: sliver, imgDir: join(root, 'train') }), /annotation 1 \(image 1\): outside the 64x64 image \(\[-0\.9, 10, 0\.5, 10\]\)/);
});

test('structural errors in the annotation file are one-line input errors', async () => {
  const bad = join(root, 'annotations', 'bad.json');
  writeFileSync(bad, '{"images": [], "categories": []');
  await assert.rejects(CocoDataset.load({ annFile: bad, imgDir: root }), /bad\.json: not valid JSON/);
  writeFileSync(bad, JSON.stringify({ images: [{ id: 1 }], categories: [] }));
  await assert.rejects(CocoDataset.load({ annFile: bad, imgDir: root }), { message: `${bad}: images[0] needs numeric id, width, height and a file_name string` });
  await assert.rejects(CocoDataset.load({ annFile: join(root, 'nope.json'), imgDir: root }), { message: `${join(root, 'nope.json')}: annotation file not found` });
});

test('LabelMap maps both ways', () => {
  const m = new LabelMap([{ id: 90, name: 'z' }, { id: 3, name: 'a' }]);
  assert.equal(m.label(3), 1);
  assert.equal(m.label(90), 2);
  assert.equal(m.categoryId(2), 90);
  assert.equal(m.label(4), undefined);
});
