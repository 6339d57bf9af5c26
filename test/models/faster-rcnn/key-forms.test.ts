// One detector, three checkpoint layouts: torchvision's current keys, its pre-0.13 keys
// (`_metadata` version 1), and mmdetection's names with background last. All load the same
// weights; the mmdetection copy detects the same boxes with mmdetection's label numbering.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { join } from 'node:path';
import { selectBackend } from '../../../src/backend/select.js';
import { readCheckpoint } from '../../../src/checkpoint/read.js';
import { extractStateDict } from '../../../src/checkpoint/extract.js';
import { loadDetectorCheckpoint, type LoadedDetector } from '../../../src/models/detectors/load.js';
import { assertClose, f32, FIXTURE, npy } from './helpers.js';

const MODEL = 'fasterrcnn_mobilenet_v3_large_320_fpn';
let current: LoadedDetector;

before(async () => {
  await selectBackend('wasm');
  current = loadDetectorCheckpoint(join(FIXTURE, 'model.pth'), { model: MODEL });
});

test('the old key form is really the old form, with _metadata version 1', () => {
  const extracted = extractStateDict(readCheckpoint(join(FIXTURE, 'model_v1.pth')).object);
  assert.ok(extracted.stateDict.has('backbone.fpn.inner_blocks.0.weight'));
  assert.ok(extracted.stateDict.has('rpn.head.conv.weight'));
  assert.equal(extracted.metadata.get('backbone.fpn')?.version, 1);
  assert.equal(extracted.metadata.get('rpn.head')?.version, 1);
});

test('old (version 1) and new key forms load identical weights', () => {
  const old = loadDetectorCheckpoint(join(FIXTURE, 'model_v1.pth'), { model: MODEL });
  assert.equal(old.mapped.detection.best.mapping.name, 'torchvision-fasterrcnn');
  assert.deepEqual(old.initialised, []);
  assert.deepEqual(Object.keys(old.weights).sort(), Object.keys(current.weights).sort());
  for (const [name, t] of Object.entries(current.weights)) {
    assert.deepEqual(old.weights[name].dataSync(), t.dataSync(), name);
  }
});

test('the mmdetection layout (background last, no background box rows) detects the same objects', async () => {
  const mm = loadDetectorCheckpoint(join(FIXTURE, 'model_mmdet.pth'), { model: MODEL });
  assert.equal(mm.mapped.detection.best.mapping.name, 'mmdet-fasterrcnn');
  assert.equal(mm.options.classLayout, 'mmdet');
  assert.deepEqual(mm.initialised, []);
  assert.deepEqual(mm.weights['roi_head.bbox_pred.weight'].shape, [64, 12]);
  for (let n = 0; n < 3; n++) {
    const t = npy(`image_${n}`);
    const image = { height: t.shape[0], width: t.shape[1], data: t.data as Uint8Array };
    const [det] = await mm.model.predict(mm.weights, [image]);
    assertClose(det.boxes, f32(`det_boxes_${n}`), 0.5, 'boxes');
    assertClose(det.scores, f32(`det_scores_${n}`), 1e-3, 'scores');
    // mmdetection numbers foreground classes from 0: torchvision label L is mmdetection's L - 1
    assert.deepEqual([...det.labels], [...(npy(`det_labels_${n}`).data as Int32Array)].map((l) => l - 1));
  }
});

test('a backbone-only checkpoint loads the backbone and leaves the rest freshly initialised, on purpose', () => {
  const bb = loadDetectorCheckpoint(join(FIXTURE, 'backbone_f16.pth'), {
    model: MODEL,
    options: { numClasses: 4, fpnChannels: 32, representationSize: 64 },
  });
  assert.equal(bb.mapped.detection.best.mapping.name, 'torchvision-mobilenetv3-fasterrcnn-backbone');
  const own = bb.model.specs.filter((s) => !s.name.startsWith('backbone.')).map((s) => s.name);
  assert.deepEqual(bb.initialised, own);
  assert.ok(own.length > 0);
  for (const s of bb.model.specs.filter((x) => x.name.startsWith('backbone.'))) {
    const loaded = bb.weights[s.name].dataSync();
    const trained = current.weights[s.name].dataSync();
    // float16 in the file: equal to the trained float32 tensor up to half-precision rounding
    trained.forEach((v, i) => assert.ok(Math.abs(loaded[i] - v) <= Math.abs(v) * 2 ** -11 + 1e-7, `${s.name}[${i}]`));
  }
});
