// Faster R-CNN training losses against torchvision 0.14 on a fixed batch
// (fixtures/detection-losses, written by fixtures/gen_detection_losses.py): a reduced
// fasterrcnn_mobilenet_v3_large_320_fpn (width 0.5, FPN 32, box head 64, 4 classes), seeded random
// weights, BatchNorm on running statistics, sampling sized to take every anchor and proposal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../../src/backend/select.js';
import { ensureGradients } from '../../../src/backend/gradients.js';
import { planLayout, permute } from '../../../src/mapping/layout.js';
import { createFasterRCNN } from '../../../src/models/faster-rcnn/faster-rcnn.js';
import { computeLosses, roiStage, rpnStage, type DetectionBatch } from '../../../src/train/faster-rcnn/faster-rcnn-train.js';
import { detectorTrainable, detectorVariables, toDetectionBatch } from '../../../src/train/faster-rcnn/trainable.js';
import { SeededRandom } from '../../../src/train/faster-rcnn/random.js';
import { assertRelClose, fixtureNpy, loadFixtureBatch, loadSamplingFixture, type LossFixtureSettings } from './sampling-fixture.js';

await selectBackend('wasm');
await ensureGradients();

interface Losses {
  lossObjectness: number;
  lossRpnBoxReg: number;
  lossClassifier: number;
  lossBoxReg: number;
}

const dir = new URL('../../../fixtures/detection-losses/', import.meta.url);
const expected = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8')) as LossFixtureSettings & {
  imageSizes: Array<[number, number]>;
  numProposals: number[];
  losses: Losses;
  gradNormsOfTotalLoss: Record<string, number>;
  lossesSecondImageBackground: Losses;
  lossesBatchNormTraining: Losses;
  runningStatsAfterBatchNormTraining: Record<string, number[]>;
};

const npy = (name: string) => fixtureNpy(dir, name);
const { detector, weights } = loadSamplingFixture(new URL('model.pth', dir));
const batch = loadFixtureBatch(dir, expected.imageSizes);

test('RPN losses and training-mode proposals equal torchvision on the fixed batch', () => {
  tf.tidy(() => {
    const { features } = detector.features(weights, batch.images);
    const rpn = rpnStage(detector, weights, features, batch);
    assertRelClose(rpn.lossObjectness.dataSync()[0], expected.losses.lossObjectness, 1e-4, 'loss_objectness');
    assertRelClose(rpn.lossRpnBoxReg.dataSync()[0], expected.losses.lossRpnBoxReg, 1e-4, 'loss_rpn_box_reg');
    rpn.proposals.forEach((p, i) => {
      const want = npy(`proposals_${i}.npy`).data as Float32Array;
      assert.equal(p.length / 4, want.length / 4, `image ${i}: number of proposals`);
      let worst = 0;
      for (let k = 0; k < want.length; k++) worst = Math.max(worst, Math.abs(p[k] - want[k]));
      assert.ok(worst < 0.05, `image ${i}: proposals differ by up to ${worst} px`);
    });
  });
});

test("RoI losses equal torchvision's given torchvision's proposals", () => {
  tf.tidy(() => {
    const { features } = detector.features(weights, batch.images);
    const proposals = expected.imageSizes.map((_, i) => npy(`proposals_${i}.npy`).data as Float32Array);
    const roi = roiStage(detector, weights, features, proposals, batch);
    assertRelClose(roi.lossClassifier.dataSync()[0], expected.losses.lossClassifier, 1e-4, 'loss_classifier');
    assertRelClose(roi.lossBoxReg.dataSync()[0], expected.losses.lossBoxReg, 1e-4, 'loss_box_reg');
  });
});

function assertLosses(options: Parameters<typeof computeLosses>[3], input: DetectionBatch, want: Losses, what: string): void {
  const losses = tf.tidy(() => computeLosses(detector, weights, input, options));
  for (const key of ['lossObjectness', 'lossRpnBoxReg', 'lossClassifier', 'lossBoxReg'] as const) {
    assertRelClose(losses[key].dataSync()[0], want[key], 1e-4, `${what}: ${key}`);
  }
  tf.dispose(losses);
}

test('computeLosses end to end: the four losses equal torchvision within 1e-4 relative', () => {
  assertLosses({}, batch, expected.losses, 'fixed batch');
});

test('a background image (no boxes) in the batch: all its anchors and RoIs negative, as torchvision', () => {
  const background = { boxes: new Float32Array(0), labels: new Int32Array(0) };
  assertLosses({}, { ...batch, targets: [batch.targets[0], background] }, expected.lossesSecondImageBackground, 'background image');
});

test('BatchNorm on batch statistics (torchvision BatchNorm2d in train mode): losses and running-stat updates', () => {
  assertLosses({ batchNormTraining: true }, batch, expected.lossesBatchNormTraining, 'batch-statistics BatchNorm');
  const out = tf.tidy(() => computeLosses(detector, weights, batch, { batchNormTraining: true }));
  const updates = out.bnUpdates ?? {};
  const torchToOurs: Record<string, string> = {
    'backbone.body.0.1.running_mean': 'backbone.features.0.bn.running_mean',
    'backbone.body.16.1.running_var': 'backbone.features.16.bn.running_var',
  };
  for (const [torchName, want] of Object.entries(expected.runningStatsAfterBatchNormTraining)) {
    const got = updates[torchToOurs[torchName]];
    assert.ok(got, `no bnUpdates entry ${torchToOurs[torchName]}`);
    const values = got.dataSync();
    const scale = Math.max(...want.map(Math.abs));
    want.forEach((w, i) => assert.ok(Math.abs(values[i] - w) <= 1e-4 * scale, `${torchToOurs[torchName]}[${i}]: ${values[i]} vs torch ${w}`));
  }
  tf.dispose(out);
});

test('gradients of the total loss reach the backbone and equal torchvision gradient norms', () => {
  const variables: Record<string, tf.Variable> = {};
  for (const s of detector.specs) variables[s.name] = tf.variable(weights[s.name], s.trainable, `train-test/${s.name}`);
  const before = tf.memory().numTensors;
  const { value, grads: byVariable } = tf.variableGrads(() => {
    const l = computeLosses(detector, variables, batch);
    return tf.addN([l.lossObjectness, l.lossRpnBoxReg, l.lossClassifier, l.lossBoxReg]) as tf.Scalar;
  });
  const grads = Object.fromEntries(Object.entries(byVariable).map(([n, g]) => [n.slice('train-test/'.length), g]));
  const total = Object.values(expected.losses).reduce((a, b) => a + b, 0);
  assertRelClose(value.dataSync()[0], total, 1e-4, 'total loss');
  for (const [name, g] of Object.entries(grads)) assert.ok(g.dataSync().every(Number.isFinite), `${name}: non-finite gradient`);
  const torchToOurs: Record<string, string> = {
    'roi_heads.box_predictor.cls_score.weight': 'roi_head.cls_score.weight',
    'roi_heads.box_predictor.bbox_pred.weight': 'roi_head.bbox_pred.weight',
    'roi_heads.box_head.fc6.weight': 'roi_head.fc6.weight',
    'rpn.head.cls_logits.weight': 'rpn.objectness.weight',
    'rpn.head.conv.0.0.weight': 'rpn.conv.weight',
    'backbone.fpn.inner_blocks.0.0.weight': 'neck.lateral.0.weight',
    'backbone.fpn.layer_blocks.0.0.weight': 'neck.output.0.weight',
    'backbone.body.16.0.weight': 'backbone.features.16.conv.weight',
    'backbone.body.0.0.weight': 'backbone.features.0.conv.weight',
  };
  for (const [torchName, want] of Object.entries(expected.gradNormsOfTotalLoss)) {
    const ours = torchToOurs[torchName];
    assert.ok(grads[ours], `no gradient for ${ours}`);
    assertRelClose(tf.tidy(() => tf.norm(grads[ours]).dataSync()[0]), want, 2e-4, `|grad ${ours}|`);
  }
  // whole gradients of a few small parameters, converted to TF.js layout like their weights
  for (const torchName of ['roi_heads.box_predictor.cls_score.weight', 'rpn.head.cls_logits.weight', 'backbone.body.0.0.weight']) {
    const ours = torchToOurs[torchName];
    const file = npy(`grad_${torchName}.npy`);
    const spec = detector.specs.find((s) => s.name === ours)!;
    const layout = planLayout(spec.kind, file.shape);
    assert.ok(!('error' in layout));
    const want = permute(file.data as Float32Array, layout.viewShape, layout.perm);
    const got = grads[ours].dataSync();
    let diff = 0;
    let scale = 0;
    want.forEach((w, i) => {
      diff = Math.max(diff, Math.abs(got[i] - w));
      scale = Math.max(scale, Math.abs(w));
    });
    assert.ok(diff / scale < 1e-3, `grad ${ours}: max error ${diff} vs max |grad| ${scale}`);
  }
  tf.dispose([value, ...Object.values(grads)]);
  assert.equal(tf.memory().numTensors, before, 'computeLosses leaks no tensors');
  tf.dispose(Object.values(variables));
});

test('the RoI losses alone reach the backbone through RoIAlign, and not the RPN (proposals are detached)', () => {
  const variables: Record<string, tf.Variable> = {};
  for (const s of detector.specs) variables[s.name] = tf.variable(weights[s.name], s.trainable, `roi-only/${s.name}`);
  const { value, grads } = tf.variableGrads(() => {
    const l = computeLosses(detector, variables, batch);
    return tf.add(l.lossClassifier, l.lossBoxReg) as tf.Scalar;
  });
  const norm = (name: string) => tf.tidy(() => tf.norm(grads[`roi-only/${name}`]).dataSync()[0]);
  for (const name of ['backbone.features.0.conv.weight', 'backbone.features.13.dw.conv.weight', 'neck.lateral.0.weight', 'roi_head.fc6.weight']) {
    const n = norm(name);
    assert.ok(Number.isFinite(n) && n > 1e-3, `${name}: gradient norm ${n}`);
  }
  const rpnGrads = Object.keys(grads).filter((n) => n.startsWith('roi-only/rpn.'));
  assert.deepEqual(rpnGrads, [], 'no RoI-loss gradient reaches the RPN head');
  tf.dispose([value, ...Object.values(grads), ...Object.values(variables)]);
});

test('detectorTrainable: torchvision-named terms summing to the total, seeded sampling, and SGD steps lower the loss', () => {
  const variables = detectorVariables(detector, weights);
  assert.equal(variables.get('backbone.features.0.bn.running_mean')?.trainable, false);
  assert.equal(variables.get('roi_head.fc6.weight')?.trainable, true);
  // the fixture's losses are with BatchNorm on running statistics: normEval
  const config = structuredClone(detector.config);
  config.backbone.normEval = true;
  const model = detectorTrainable(createFasterRCNN(config), variables, { seed: 3 });
  assert.equal(model.namedVariables(), variables);
  const trainable = [...variables.values()].filter((v) => v.trainable);
  const totals: number[] = [];
  for (let step = 0; step < 3; step++) {
    let terms: Record<string, number> = {};
    const { value, grads } = tf.variableGrads(() => {
      const out = model.computeLoss(batch);
      terms = Object.fromEntries(Object.entries(out.terms).map(([k, v]) => [k, v.dataSync()[0]]));
      return out.total;
    }, trainable);
    totals.push(value.dataSync()[0]);
    if (step === 0) {
      // the fixture's quotas take every candidate, so even the seeded sampler gives torchvision's losses
      assert.deepEqual(Object.keys(terms), ['loss_objectness', 'loss_rpn_box_reg', 'loss_classifier', 'loss_box_reg']);
      assertRelClose(terms.loss_objectness, expected.losses.lossObjectness, 1e-4, 'loss_objectness');
      assertRelClose(terms.loss_box_reg, expected.losses.lossBoxReg, 1e-4, 'loss_box_reg');
      assertRelClose(totals[0], Object.values(terms).reduce((a, b) => a + b, 0), 1e-6, 'total = sum of terms');
    }
    tf.tidy(() => {
      for (const v of trainable) if (grads[v.name]) v.assign(tf.sub(v, tf.mul(grads[v.name], 1e-4)));
    });
    tf.dispose([value, ...Object.values(grads)]);
  }
  // not monotonic in general: a step moves the proposals, so the next loss is over other RoIs
  assert.ok(totals[1] < totals[0] && totals[2] < totals[0], `loss over 3 SGD steps: ${totals.join(', ')}`);
  // quotas that cover every candidate take them all without a single draw
  assert.deepEqual(model.rng?.getState(), [3, 0]);
  tf.dispose([...variables.values()]);
});

test('real sampling (256 anchors and 32 RoIs per image) with a seeded sampler: reproducible, seed-dependent, finite', () => {
  const config = structuredClone(detector.config);
  config.rpn.batchSizePerImage = 256;
  config.rpn.positiveFraction = 0.5;
  config.roiHead.batchSizePerImage = 32;
  config.roiHead.positiveFraction = 0.25;
  const sampled = createFasterRCNN(config);
  const run = (seed: number) =>
    tf.tidy(() => {
      const l = computeLosses(sampled, weights, batch, { random: new SeededRandom(seed) });
      return [l.lossObjectness, l.lossRpnBoxReg, l.lossClassifier, l.lossBoxReg].map((t) => t.dataSync()[0]);
    });
  const a = run(1);
  assert.ok(a.every(Number.isFinite), `losses ${a}`);
  assert.deepEqual(run(1), a);
  const b = run(2);
  assert.notDeepEqual(b, a);
});

test('toDetectionBatch: a collated data batch becomes the NHWC tensor, sizes and targets computeLosses takes', () => {
  const images = npy('images.npy');
  const [n, h, w] = images.shape;
  const converted = toDetectionBatch({
    images: images.data as Float32Array,
    shape: [n, h, w, 3],
    imageSizes: expected.imageSizes,
    originalSizes: [[128, 128], [96, 128]],
    scaleFactors: [[1, 1], [128 / 96, 170 / 128]],
    flipped: [false, false],
    imageIds: [1, 2],
    boxes: batch.targets.map((t) => t.boxes),
    labels: batch.targets.map((t) => t.labels),
    crowdBoxes: [new Float32Array(0), new Float32Array(0)],
    epoch: 0,
    index: 0,
  });
  assert.deepEqual(converted.images.shape, [n, h, w, 3]);
  assert.deepEqual(converted.imageSizes, expected.imageSizes);
  assert.deepEqual(converted.targets, batch.targets);
  const l = tf.tidy(() => computeLosses(detector, weights, converted).lossClassifier.dataSync()[0]);
  assertRelClose(l, expected.losses.lossClassifier, 1e-4, 'loss_classifier');
  converted.images.dispose();
});
