// Starting weights for fine-tuning: load_from of a whole torchvision detector into a detector with
// another class count (box predictor re-initialised and reported, the rest loaded exactly), and
// init_cfg of a backbone-only float16 checkpoint (prefixed into backbone.*).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createFasterRCNN } from '../../src/models/faster-rcnn/faster-rcnn.js';
import { torchvisionDetectorConfig } from '../../src/models/detectors/torchvision.js';
import { loadDetectorCheckpoint } from '../../src/models/detectors/load.js';
import { loadInitialWeights } from '../../src/train/init-weights.js';

await tf.setBackend('cpu');
tf.enableProdMode();

const REDUCED = { widthMult: 0.35, fpnChannels: 32, representationSize: 64 };
const detector = (numClasses: number) => createFasterRCNN(torchvisionDetectorConfig('fasterrcnn_mobilenet_v3_large_320_fpn', { ...REDUCED, numClasses }));
const same = (a: tf.Tensor, b: tf.Tensor) => tf.util.arraysEqual(a.dataSync(), b.dataSync());

test('load_from into a detector with 3 classes instead of 4: the box predictor is re-initialised and reported', () => {
  const reference = loadDetectorCheckpoint('fixtures/fasterrcnn/model.pth');
  const { weights, log } = loadInitialWeights(detector(3), [{ origin: 'load_from', target: 'detector', checkpoint: 'fixtures/fasterrcnn/model.pth' }], 0);
  assert.match(log[0], /^load_from: fixtures\/fasterrcnn\/model\.pth: mapping torchvision-fasterrcnn → .*: 284 matched, 0 missing/);
  assert.equal(
    log[1],
    '  the class count changed (3 classes with background now): re-initialised roi_head.cls_score.weight [64, 4] → [64, 3]; ' +
      'roi_head.cls_score.bias [4] → [3]; roi_head.bbox_pred.weight [64, 16] → [64, 12]; roi_head.bbox_pred.bias [16] → [12]',
  );
  assert.equal(log[2], 'initialised fresh (seed 0): 4 of 284 parameters');
  for (const name of ['backbone.features.0.conv.weight', 'neck.lateral.0.weight', 'rpn.objectness.weight', 'roi_head.fc7.weight']) {
    assert.ok(name in weights && same(weights[name], reference.weights[name]), name);
  }
  assert.deepEqual(weights['roi_head.cls_score.weight'].shape, [64, 3]);
  tf.dispose([...Object.values(weights), ...Object.values(reference.weights)]);
});

test('init_cfg with a float16 backbone checkpoint fills backbone.* and leaves the rest fresh', () => {
  const reference = loadDetectorCheckpoint('fixtures/fasterrcnn/model.pth');
  const det = detector(4);
  const { weights, log } = loadInitialWeights(
    det,
    [{ origin: 'model.backbone.init_cfg', target: 'backbone', checkpoint: 'fixtures/fasterrcnn/backbone_f16.pth', model: 'mobilenetv3_large' }],
    0,
  );
  const backboneCount = det.specs.filter((s) => s.name.startsWith('backbone.')).length;
  assert.match(log[0], /^model\.backbone\.init_cfg: fixtures\/fasterrcnn\/backbone_f16\.pth: mapping .* → mobilenetv3_large: /);
  assert.equal(log.at(-1), `initialised fresh (seed 0): ${det.specs.length - backboneCount} of ${det.specs.length} parameters`);
  // float16 in the file: equal to the float32 detector's backbone within half precision
  const a = weights['backbone.features.0.conv.weight'].dataSync();
  const b = reference.weights['backbone.features.0.conv.weight'].dataSync();
  assert.ok(a.every((v, i) => Math.abs(v - b[i]) <= 1e-3 * (1 + Math.abs(b[i]))));
  tf.dispose([...Object.values(weights), ...Object.values(reference.weights)]);
});
