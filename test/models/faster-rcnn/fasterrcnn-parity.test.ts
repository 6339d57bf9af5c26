// The whole detector against torchvision's, on fixtures/fasterrcnn (a reduced
// fasterrcnn_mobilenet_v3_large_320_fpn trained briefly on synthetic shapes, see
// fixtures/gen_fasterrcnn.py): transform, FPN outputs, RPN proposals, RoIAlign, box head, and the
// final detections, image by image (square, landscape, portrait).
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../../src/backend/select.js';
import { createFasterRCNN } from '../../../src/models/faster-rcnn/faster-rcnn.js';
import { transformImages } from '../../../src/models/faster-rcnn/transform.js';
import { loadDetectorCheckpoint, type LoadedDetector } from '../../../src/models/detectors/load.js';
import { assertClose, f32, FIXTURE, json, npy } from './helpers.js';

const expected = json('expected.json');
let detector: LoadedDetector;

before(async () => {
  await selectBackend('wasm');
  detector = loadDetectorCheckpoint(join(FIXTURE, 'model.pth'), { model: 'fasterrcnn_mobilenet_v3_large_320_fpn' });
});

function image(n: number) {
  const t = npy(`image_${n}`);
  return { height: t.shape[0], width: t.shape[1], data: t.data as Uint8Array };
}

test('the checkpoint maps completely, with the sizes read off its tensors', () => {
  assert.deepEqual(detector.initialised, []);
  assert.equal(detector.options.numClasses, 4);
  assert.equal(detector.options.fpnChannels, 32);
  assert.equal(detector.options.representationSize, 64);
  assert.equal((detector.options.backbone as { widthMult: number }).widthMult, 0.35);
});

expected.images.forEach((info: any, n: number) => {
  test(`image ${n} (${info.size.join('x')}): transform, FPN, proposals, RoIAlign, box head, detections equal torchvision`, async () => {
    const { model, weights } = detector;
    const batch = transformImages([image(n)], model.config.transform);
    assert.deepEqual(batch.imageSizes[0], info.resized);
    assert.deepEqual(batch.shape.slice(1, 3), info.padded);
    // input: every 5th row/column stored, plus per-channel sums of the whole tensor
    const [, ph, pw] = batch.shape;
    const sub: number[] = [];
    for (let y = 0; y < ph; y += 5) for (let x = 0; x < pw; x += 5) for (let c = 0; c < 3; c++) sub.push(batch.data[(y * pw + x) * 3 + c]);
    assertClose(sub, f32(`input_${n}`), 1e-5, 'transformed input');
    const sums = [0, 0, 0];
    batch.data.forEach((v, i) => (sums[i % 3] += v));
    assertClose(sums, info.inputChannelSums, 1e-2, 'input channel sums');

    const x = tf.tensor4d(batch.data, batch.shape);
    const { features } = model.features(weights, x);
    info.fpnLevels.forEach((level: string, i: number) => {
      assert.deepEqual(features[i].shape, npy(`fpn_${n}_${level}`).shape, `FPN '${level}' shape`);
      assertClose(features[i].dataSync(), f32(`fpn_${n}_${level}`), 1e-3, `FPN '${level}'`);
    });

    const head = model.rpnHead(weights, features);
    const { anchors, numPerLevel } = model.anchors(features, [ph, pw]);
    const proposals = model.proposals(anchors, head.objectness.dataSync() as Float32Array, head.deltas.dataSync() as Float32Array, numPerLevel, batch.imageSizes[0], false);
    const refProposals = f32(`proposals_${n}`);
    assert.equal(proposals.boxes.length / 4, info.numProposals, 'proposal count');
    assertClose(proposals.boxes, refProposals, 0.5, 'proposal boxes');
    assertClose(proposals.scores, f32(`proposal_scores_${n}`), 1e-3, 'proposal scores');

    // from here on, torchvision's own proposals, so each stage is checked on identical input
    const pooled8 = model.roiAlign(features, [refProposals.slice(0, 32)], batch.imageSizes);
    assertClose(pooled8.dataSync(), f32(`roi_pooled_${n}`), 1e-3, 'MultiScaleRoIAlign');
    const { classLogits, boxDeltas } = model.roiHead(weights, model.roiAlign(features, [refProposals], batch.imageSizes));
    assertClose(classLogits.dataSync(), f32(`class_logits_${n}`), 1e-3, 'class logits');
    assertClose(boxDeltas.dataSync(), f32(`box_regression_${n}`), 1e-3, 'box regression');

    const [det] = await model.predict(weights, [image(n)]);
    const refBoxes = f32(`det_boxes_${n}`);
    assert.equal(det.boxes.length / 4, info.numDetections, 'detection count');
    assert.deepEqual([...det.labels], [...(npy(`det_labels_${n}`).data as Int32Array)], 'labels');
    assertClose(det.boxes, refBoxes, 0.5, 'detection boxes');
    assertClose(det.scores, f32(`det_scores_${n}`), 1e-3, 'detection scores');
    assert.equal([...det.scores].filter((s) => s > 0.3).length, info.numAbove03);
  });
});

test('no proposal survives (RPN score threshold above 1): no detections, no error', async () => {
  const { model, weights } = detector;
  const strict = createFasterRCNN({ ...model.config, rpn: { ...model.config.rpn, scoreThresh: 1.01 } });
  const [det] = await strict.predict(weights, [image(0)]);
  assert.equal(det.boxes.length, 0);
  assert.equal(det.scores.length, 0);
});

test('predict leaves no tensors behind', async () => {
  const { model, weights } = detector;
  await model.predict(weights, [image(1)]);
  const before = tf.memory().numTensors;
  await model.predict(weights, [image(1), image(2)]);
  assert.equal(tf.memory().numTensors, before);
});
