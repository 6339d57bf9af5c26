// Box utilities, box coder and anchors against torchvision goldens (fixtures/fasterrcnn/units.json).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateAnchors } from '../../../src/models/faster-rcnn/anchors.js';
import { decodeBoxes, encodeBoxes } from '../../../src/models/faster-rcnn/box-coder.js';
import { batchedNms, boxIou, clipBoxes, nms, removeSmallBoxes } from '../../../src/models/faster-rcnn/boxes.js';
import { assertClose, json } from './helpers.js';

const units = json('units.json');
const F = (xs: number[]) => Float32Array.from(xs);

test('anchors equal torchvision AnchorGenerator (sizes x ratios, rounded, stride = padded size // feature size)', () => {
  const u = units.anchors;
  const { anchors, numPerLevel } = generateAnchors(
    { type: 'torchvision', sizes: [[32, 64, 128, 256, 512], [32, 64, 128, 256, 512], [32, 64, 128, 256, 512]], aspectRatios: [[0.5, 1, 2], [0.5, 1, 2], [0.5, 1, 2]] },
    u.featureSizes,
    u.imageSize,
  );
  assert.deepEqual(numPerLevel, [12 * 15, 12 * 15, 4 * 15]);
  assert.deepEqual([...anchors], u.anchors.map((v: number) => Math.fround(v)));
});

test('mmdetection anchors: base size = stride, scales x ratios, centre offset, not rounded', () => {
  const { anchors } = generateAnchors({ type: 'mmdet', strides: [8], scales: [4], ratios: [0.5, 1, 2], centerOffset: 0 }, [[1, 2]], [8, 16]);
  const s = Math.SQRT1_2;
  const expected = [
    [-16 / s, -16 * s, 16 / s, 16 * s], [-16, -16, 16, 16], [-16 * s, -16 / s, 16 * s, 16 / s],
  ];
  const rows = [...expected, ...expected.map(([a, b, c, d]) => [a + 8, b, c + 8, d])].flat();
  assertClose(anchors, rows, 1e-4, 'mmdet anchors');
});

test('box_iou equals torchvision', () => {
  const u = units.boxIou;
  assertClose(boxIou(F(u.a), F(u.b)), u.iou, 1e-6, 'iou');
});

test('nms keeps what torchvision keeps, in its order, with tied scores', () => {
  const u = units.nms;
  assert.deepEqual(nms(F(u.boxes), F(u.scores), u.thresh), u.keep);
});

test('batched_nms: coordinate-trick path (<= 1000 boxes) and per-group path equal torchvision', () => {
  for (const name of ['batchedNmsTrick', 'batchedNmsVanilla']) {
    const u = units[name];
    assert.deepEqual(batchedNms(F(u.boxes), F(u.scores), u.groups, u.thresh), u.keep, name);
  }
});

test('clip and remove_small_boxes', () => {
  const boxes = F([-5, 2, 50, 70, 10, 10, 10.5, 30, 0, 0, 3, 3]);
  assert.deepEqual([...clipBoxes(boxes, 60, 40)], [0, 2, 40, 60, 10, 10, 10.5, 30, 0, 0, 3, 3]);
  assert.deepEqual(removeSmallBoxes(boxes, 1), [0, 2]);
});

test('BoxCoder encode and decode (weights 10,10,5,5; dw/dh clamped at log(1000/16)) equal torchvision', () => {
  const u = units.boxCoder;
  assertClose(encodeBoxes(F(u.targets), F(u.references), u.weights), u.encoded, 1e-4, 'encode');
  const decoded = decodeBoxes(F(u.deltas), F(u.references), u.weights);
  const rel = u.decoded.map((v: number, i: number) => Math.abs(v - decoded[i]) / Math.max(1, Math.abs(v)));
  assert.ok(Math.max(...rel) < 1e-6, `decode relative error ${Math.max(...rel)}`);
});
