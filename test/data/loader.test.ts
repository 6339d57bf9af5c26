import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CocoDataset } from '../../src/data/dataset.js';
import { type DataBatch, DetectionLoader } from '../../src/data/loader.js';
import { writeShapesDataset } from '../../src/data/shapes.js';
import { DEFAULT_TRAIN_PIPELINE, buildPipeline } from '../../src/data/transforms.js';
import type { TransformConfig } from '../../src/models/faster-rcnn/config.js';

let tmp = '';
let ds: CocoDataset;
const MODEL: TransformConfig = { minSize: 96, maxSize: 192, imageMean: [0.485, 0.456, 0.406], imageStd: [0.229, 0.224, 0.225], sizeDivisible: 32 };

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'torchport-loader-'));
  await writeShapesDataset(join(tmp, 's'), { train: 8, val: 1, size: 64, seed: 5 });
  ds = await CocoDataset.load({ annFile: join(tmp, 's/annotations/instances_train.json'), imgDir: join(tmp, 's/train') });
});
after(() => rmSync(tmp, { recursive: true, force: true }));

const loader = (seed = 1, prefetch = 2, pipeline: Record<string, unknown>[] = DEFAULT_TRAIN_PIPELINE): DetectionLoader =>
  new DetectionLoader(ds, buildPipeline(pipeline, MODEL), { batchSize: 3, shuffle: true, seed, prefetch });

async function collect(it: AsyncIterable<DataBatch>): Promise<DataBatch[]> {
  const out: DataBatch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

test('order: a seeded permutation per epoch, the same every time it is asked for', () => {
  const l = loader();
  const o0 = l.order(0);
  assert.deepEqual([...o0].sort(), [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(l.order(0), o0);
  assert.notDeepEqual(l.order(1), o0);
  assert.notDeepEqual(loader(2).order(0), o0);
  assert.deepEqual(new DetectionLoader(ds, [], { batchSize: 3, shuffle: false, seed: 1, prefetch: 0 }).order(3), [0, 1, 2, 3, 4, 5, 6, 7]);
});

test('batches: shapes, padding, scale factors; identical on a rerun and when resumed mid-epoch', async () => {
  const l = loader();
  assert.equal(l.batchesPerEpoch, 3);
  const all = await collect(l.batches(0));
  assert.deepEqual(all.map((b) => b.shape), [[3, 96, 96, 3], [3, 96, 96, 3], [2, 96, 96, 3]]);
  assert.deepEqual(all[0].imageSizes, [[96, 96], [96, 96], [96, 96]]);
  assert.deepEqual(all[0].scaleFactors[0], [1.5, 1.5]);
  assert.deepEqual(all.flatMap((b) => b.imageIds), l.order(0).map((i) => ds.items[i].image.id));
  const again = await collect(loader().batches(0));
  assert.deepEqual(again.map((b) => b.images), all.map((b) => b.images));
  assert.deepEqual(again.map((b) => b.flipped), all.map((b) => b.flipped));
  const resumed = await collect(loader().batches(0, 1));
  assert.deepEqual(resumed.map((b) => b.index), [1, 2]);
  assert.deepEqual(resumed.map((b) => b.images), all.slice(1).map((b) => b.images));
  assert.ok(all.flatMap((b) => b.flipped).some(Boolean) && !all.flatMap((b) => b.flipped).every(Boolean), 'some flipped, some not');
});

test('boxes follow the image: scaled by the resize ratio, mirrored when flipped', async () => {
  const [batch] = await collect(loader().batches(0));
  batch.imageIds.forEach((id, n) => {
    const item = ds.items.find((i) => i.image.id === id)!;
    const expected = [...item.boxes].map((v, k) => {
      if (!batch.flipped[n] || k % 2 === 1) return v * 1.5;
      const partner = item.boxes[k % 4 === 0 ? k + 2 : k - 2];
      return (64 - partner) * 1.5;
    });
    assert.deepEqual([...batch.boxes[n]], expected, `image ${id}`);
    assert.deepEqual([...batch.labels[n]], [...item.labels]);
  });
});

test('pixels: normalised with the model mean/std; flipping mirrors them; padding is zero', async () => {
  const plain = await collect(new DetectionLoader(ds, buildPipeline([{ type: 'Normalize' }, { type: 'Pad' }], MODEL), { batchSize: 1, shuffle: false, seed: 0, prefetch: 0 }).batches(0, 0));
  const raw = await ds.readSample(0);
  const f = Math.fround;
  assert.equal(plain[0].images[0], f(f(raw.image[0] - f(0.485)) / f(0.229)));
  assert.deepEqual(plain[0].shape, [1, 64, 64, 3]);
  const flipped = await collect(new DetectionLoader(ds, buildPipeline([{ type: 'RandomFlip', prob: 1 }, { type: 'Pad', sizeDivisor: 40 }], MODEL), { batchSize: 1, shuffle: false, seed: 0, prefetch: 0 }).batches(0, 0));
  assert.deepEqual(flipped[0].shape, [1, 80, 80, 3]);
  // Pixel (y=3, x=0) of the flipped image is pixel (3, 63) of the original; padding stays 0.
  const at = (b: DataBatch, y: number, x: number, c: number): number => b.images[(y * b.shape[2] + x) * 3 + c];
  assert.equal(at(flipped[0], 3, 0, 1), raw.image[(3 * 64 + 63) * 3 + 1]);
  assert.equal(at(flipped[0], 70, 70, 0), 0);
});

test('decoding runs ahead: with prefetch 2 the loader has started 3 batches when the first arrives', async () => {
  const l = loader(1, 2);
  let started = 0;
  const original = ds.readSample.bind(ds);
  const spy = Object.create(ds) as CocoDataset;
  spy.readSample = (i: number) => {
    started++;
    return original(i);
  };
  const prefetching = new DetectionLoader(spy, l.pipeline, l.options);
  const it = prefetching.batches(0);
  await it.next();
  assert.equal(started, 8, 'all three batches (3 + 3 + 2 images) were requested');
  await it.return(undefined);
});

test('an image that passes the header check but fails to decode names the image and file', async () => {
  const { readFileSync, writeFileSync } = await import('node:fs');
  const file = join(tmp, 's/train/truncated.png');
  const png = readFileSync(join(tmp, 's/train/000001.png'));
  writeFileSync(file, png.subarray(0, png.length >> 1));
  const annFile = join(tmp, 's/annotations/truncated.json');
  writeFileSync(annFile, JSON.stringify({
    images: [{ id: 5, file_name: 'truncated.png', width: 64, height: 64 }],
    annotations: [],
    categories: [{ id: 1, name: 'a' }],
  }));
  const bad = await CocoDataset.load({ annFile, imgDir: join(tmp, 's/train') });
  await assert.rejects(collect(new DetectionLoader(bad, [], { batchSize: 1, shuffle: false, seed: 0, prefetch: 3 }).batches(0)), (err: Error) => {
    assert.match(err.message, new RegExp(`^${file}: image 5: corrupt image \\(.+\\)$`));
    return true;
  });
});

test('buildLoaders: both splits from a config data section; root required', async () => {
  const { buildLoaders } = await import('../../src/data/datasets.js');
  const data = {
    root: join(tmp, 's'),
    train: { type: 'CocoDataset', annFile: 'annotations/instances_train.json', imgDir: 'train', pipeline: DEFAULT_TRAIN_PIPELINE },
    val: { type: 'CocoDataset', annFile: 'annotations/instances_val.json', imgDir: 'val', pipeline: [{ type: 'Normalize' }, { type: 'Resize' }, { type: 'Pad' }] },
    batchSize: 2,
    valBatchSize: 1,
    shuffle: true,
    prefetch: 1,
    skipBad: false,
  };
  const { train, val } = await buildLoaders(data, MODEL, 3);
  assert.equal(train.batchesPerEpoch, Math.ceil(train.dataset.length / 2));
  assert.ok(train.dataset.items.every((i) => i.labels.length > 0), 'training skips images without objects by default');
  assert.equal(val.options.shuffle, false);
  assert.equal(val.dataset.length, 1);
  await assert.rejects(buildLoaders({ ...data, root: null }, MODEL, 3), {
    message: 'data.root is not set: pass --data DIR (a COCO layout folder) or set data.root in the config',
  });
});
