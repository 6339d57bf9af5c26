// The exported detector GraphModel, loaded and run by plain tfjs-converter (no torchport code at
// run time), against torchvision (fixtures/graph-model) and against torchport's own detector, for
// four configurations: the trained detector of fixtures/fasterrcnn under its 320 config, the
// full-size config and an mmdetection-style one (4 pooled levels, aligned RoIAlign, mmdetection
// anchors), and configs/faster-rcnn_mobilenetv3-large-dli14-fpn_1x_coco.js at reduced widths
// (d-li14 backbone, 5-level FPN from stride 4, RoIAlign with adaptive sampling), the last two as
// config-carrying model folders. Also: the CropAndResize forms of RoIAlign against torchvision's
// roi_align, and the graph's interface.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { selectBackend } from '../../src/backend/select.js';
import { exportGraphModel } from '../../src/export/graph-model/index.js';
import { decodeNpy } from '../../src/checkpoint/npy.js';
import { convertCheckpoint } from '../../src/models/convert.js';
import type { FasterRCNNConfig } from '../../src/models/faster-rcnn/config.js';
import { loadDetectorDir } from '../../src/models/detectors/load.js';
import { assertClose, FIXTURE, json, npy } from '../models/faster-rcnn/helpers.js';
import { GOLDEN, loadFolder, nearest, runDetector, runRoiAlignGraph, writeDli14Folder, writeVariantFolder } from './graph-model-helpers.js';

const expected = JSON.parse(readFileSync(join(GOLDEN, 'expected.json'), 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'torchport-graph-model-'));
const images = [0, 1, 2]
  .map((n) => npy(`image_${n}`))
  .concat([decodeNpy(readFileSync(join(GOLDEN, 'image_odd.npy')))])
  .map((t) => ({ height: t.shape[0], width: t.shape[1], data: t.data as Uint8Array }));

/** The mmdetection-style variant of the 320 detector (see fixtures/gen_graph_model.py). */
function mmdetStyle(c: FasterRCNNConfig): FasterRCNNConfig {
  return {
    ...c,
    neck: { ...c.neck, numOuts: 4 },
    rpn: { ...c.rpn, anchors: { type: 'mmdet', strides: [32, 32, 64, 128], scales: [1, 2, 4, 8, 16], ratios: [0.5, 1, 2], centerOffset: 0 } },
    roiHead: { ...c.roiHead, featmapLevels: [0, 1, 2, 3], aligned: true },
  };
}

before(async () => {
  await selectBackend('wasm');
  const model = join(FIXTURE, 'model.pth');
  assert.ok((await convertCheckpoint(model, join(work, 'tv320'), { model: 'fasterrcnn_mobilenet_v3_large_320_fpn' })).written);
  assert.ok((await convertCheckpoint(model, join(work, 'tvfull'), { model: 'fasterrcnn_mobilenet_v3_large_fpn' })).written);
  writeVariantFolder(join(work, 'tv320'), join(work, 'mmdet'), mmdetStyle);
  await writeDli14Folder(join(work, 'dli14'));
});

after(() => rmSync(work, { recursive: true, force: true }));

/** The images a configuration is checked on, with torchvision's detections. */
function cases(kind: string) {
  if (kind === 'dli14') {
    // at the config's own 800/1333 size: enlarged fixture images that the size rule leaves unscaled
    return expected.dli14Images.map((d: { from: string; size: [number, number] }, k: number) => ({
      image: nearest(images[Number(d.from.slice(-1))], ...d.size),
      ref: expected.configs.dli14[k],
      name: `${d.from} enlarged`,
    }));
  }
  // the full-size config runs at 800-1333 px: two images keep the test short
  const which = kind === 'tvfull' ? [1, 3] : [0, 1, 2, 3];
  return which.map((i) => ({ image: images[i], ref: expected.configs[kind][i], name: expected.images[i] }));
}

for (const kind of ['tv320', 'tvfull', 'mmdet', 'dli14']) {
  test(`${kind}: the GraphModel's detections equal torchvision's and torchport's`, async () => {
    const out = join(work, `${kind}-graph`);
    const result = await exportGraphModel(join(work, kind), out);
    assert.equal(result.kind, 'detector');
    const model = await loadFolder(out);
    const detector = loadDetectorDir(join(work, kind));
    for (const { image, ref, name } of cases(kind)) {
      const what = `${kind} ${name} (${ref.size.join('x')} → ${ref.resized.join('x')})`;
      const g = await runDetector(model, image);
      assert.equal(g.scores.length, ref.scores.length, `${what}: count`);
      assert.deepEqual([...g.labels], ref.labels, `${what}: labels`);
      assertClose(g.boxes, ref.boxes, 1e-2, `${what}: boxes`);
      assertClose(g.scores, ref.scores, 1e-4, `${what}: scores`);
      const [own] = await detector.model.predict(detector.weights, [image]);
      assert.deepEqual([...g.labels], [...own.labels], `${what}: labels vs torchport`);
      assertClose(g.boxes, own.boxes, 1e-2, `${what}: boxes vs torchport`);
      assertClose(g.scores, own.scores, 1e-4, `${what}: scores vs torchport`);
    }
    model.dispose();
  });
}

test('the graph: one float32 [1, H, W, 3] input, outputs boxes/scores/labels, class names and conventions in the metadata, 4 MB shards', async () => {
  const out = join(work, 'tv320-graph');
  const jsonFile = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
  assert.equal(jsonFile.format, 'graph-model');
  assert.deepEqual(Object.keys(jsonFile.signature.inputs), ['image']);
  assert.deepEqual(Object.keys(jsonFile.signature.outputs), ['boxes', 'scores', 'labels']);
  assert.equal(jsonFile.signature.outputs.labels.dtype, 'DT_INT32');
  assert.deepEqual(jsonFile.userDefinedMetadata.classNames, { 1: 'class 1', 2: 'class 2', 3: 'class 3' });
  assert.match(jsonFile.userDefinedMetadata.input, /RGB, values 0-255/);
  for (const p of jsonFile.weightsManifest[0].paths.slice(0, -1)) assert.equal(readFileSync(join(out, p)).length, 4 * 1024 * 1024);
  const loaded = await loadFolder(out);
  assert.deepEqual(loaded.inputs.map((i) => [i.name, i.dtype, i.shape]), [['image', 'float32', [1, -1, -1, 3]]]);
  assert.deepEqual(loaded.outputs.map((o) => o.name), ['boxes', 'scores', 'labels']);
  assert.deepEqual((loaded.metadata as { classNames: unknown }).classNames, { 1: 'class 1', 2: 'class 2', 3: 'class 3' });
  loaded.dispose();
});

// RoIAlign as CropAndResize on the map padded by one edge-replicated pixel, shifted boxes, then an
// average pool (a fixed sample count) or a per-RoI mean of one crop per sample offset (adaptive):
// equal to torchvision's roi_align, aligned or not, boxes partly outside the map.
const units = json('units.json').roiAlign;
for (const c of units.cases) {
  test(`CropAndResize RoIAlign (aligned=${c.aligned}, sampling_ratio=${c.samplingRatio}) equals torchvision's roi_align`, async () => {
    const y = await runRoiAlignGraph(units, c.samplingRatio, c.aligned);
    assert.deepEqual(y.shape, [units.boxes.length / 4, units.outputSize, units.outputSize, units.featureShape[3]]);
    assertClose(y.dataSync(), c.pooled, 1e-5, 'pooled');
    y.dispose();
  });
}

// adaptive sampling on RoIs whose grids run from 0 (empty RoIs: zeros) to 11 samples per bin side
for (const c of expected.roiAlign.cases) {
  test(`CropAndResize RoIAlign, adaptive sampling (aligned=${c.aligned}), grids 0-11, equals torchvision's roi_align`, async () => {
    const y = await runRoiAlignGraph(expected.roiAlign, 0, c.aligned);
    assertClose(y.dataSync(), c.pooled, 1e-5, 'pooled');
    y.dispose();
  });
}
