// The training transform against torchvision: test/data/fixtures/transform holds a 45x70 PNG with
// two boxes and what torchvision 0.14's GeneralizedRCNNTransform (train mode, min_size 100,
// max_size 150) produced (make_transform_fixture.py). Our pipeline Normalize → Resize → Pad must
// give the same padded batch, image size and boxes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CocoDataset } from '../../src/data/dataset.js';
import { DetectionLoader } from '../../src/data/loader.js';
import { DEFAULT_TEST_PIPELINE, buildPipeline } from '../../src/data/transforms.js';
import { decodeNpy } from '../../src/checkpoint/npy.js';

const DIR = join(import.meta.dirname, 'fixtures', 'transform');

test('Normalize → Resize → Pad equals GeneralizedRCNNTransform on image, size and boxes', async () => {
  const ds = await CocoDataset.load({ annFile: join(DIR, 'instances.json'), imgDir: join(DIR, 'images') });
  const pipeline = buildPipeline(DEFAULT_TEST_PIPELINE, {
    minSize: 100,
    maxSize: 150,
    imageMean: [0.485, 0.456, 0.406],
    imageStd: [0.229, 0.224, 0.225],
    sizeDivisible: 32,
  });
  const loader = new DetectionLoader(ds, pipeline, { batchSize: 1, shuffle: false, seed: 0, prefetch: 0 });
  const batches = [];
  for await (const b of loader.batches(0)) batches.push(b);
  const [batch] = batches;
  const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as { imageSizes: number[][]; boxes: number[][] };
  const torch = decodeNpy(readFileSync(join(DIR, 'batch_nchw.npy')));
  assert.deepEqual(torch.shape, [1, 3, 96, 160]);
  assert.deepEqual(batch.shape, [1, 96, 160, 3]);
  assert.deepEqual(batch.imageSizes, expected.imageSizes);
  const [, C, H, W] = torch.shape;
  const ref = torch.data as Float32Array;
  let worst = 0;
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) worst = Math.max(worst, Math.abs(batch.images[(y * W + x) * 3 + c] - ref[(c * H + y) * W + x]));
    }
  }
  assert.ok(worst <= 1e-5, `max abs difference ${worst}`);
  assert.deepEqual([...batch.boxes[0]], expected.boxes.flat().map(Math.fround));
  // Category ids 5 and 2 → labels 2 and 1 (1..K in category-id order).
  assert.deepEqual([...batch.labels[0]], [2, 1]);
});
