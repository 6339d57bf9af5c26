// Detector training with BatchNorm in train mode against torchvision 0.14
// (fixtures/detection-train, written by fixtures/gen_detection_train.py): one step (losses,
// gradients, updated running statistics) and 20 SGD steps through the Trainer; normEval and frozen
// stages keep running statistics; resume is bit-exact; 1x1 maps are a clear error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../../src/backend/select.js';
import { ensureGradients } from '../../../src/backend/gradients.js';
import { InputError } from '../../../src/errors.js';
import { planLayout, permute } from '../../../src/mapping/layout.js';
import { createFasterRCNN, type FasterRCNN } from '../../../src/models/faster-rcnn/faster-rcnn.js';
import type { DetectionBatch } from '../../../src/train/faster-rcnn/faster-rcnn-train.js';
import { detectorTrainable, detectorVariables } from '../../../src/train/faster-rcnn/trainable.js';
import type { WeightMap } from '../../../src/models/layers/weights.js';
import { Sgd } from '../../../src/train/sgd.js';
import { Trainer } from '../../../src/train/trainer.js';
import type { BatchSource } from '../../../src/train/types.js';
import { relErr } from '../../mapping/helpers.js';
import { assertRelClose, fixtureNpy, loadFixtureBatch, loadSamplingFixture } from './sampling-fixture.js';

await selectBackend('wasm');
await ensureGradients();

const dir = new URL('../../../fixtures/detection-train/', import.meta.url);
const expected = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8')) as {
  batchNorm: { eps: number; momentum: number };
  imageSizes: Array<[number, number]>;
  sgd: { lr: number; momentum: number; weightDecay: number };
  rpnNmsThresh: number;
  steps: number;
  step1: {
    losses: Record<'lossObjectness' | 'lossRpnBoxReg' | 'lossClassifier' | 'lossBoxReg', number>;
    gradNorms: Record<string, number>;
    runningStats: Record<string, number[]>;
  };
  totals: number[];
  /** How far PyTorch's own float32 run is from the same run in float64. */
  float32VsFloat64: { grads: Record<string, number>; gradNorms: Record<string, number>; totals: number[]; weightsAfter: number; runningStatsAfter: number };
};

const fixture = loadSamplingFixture(new URL('model.pth', dir));
const weights = fixture.weights;
// the fixture runs without RPN NMS (see its generator): at a fresh initialisation which of two
// overlapping proposals NMS keeps is decided by rounding noise
const detector = createFasterRCNN({ ...fixture.detector.config, rpn: { ...fixture.detector.config.rpn, nmsThresh: expected.rpnNmsThresh } });
const batch = loadFixtureBatch(dir, expected.imageSizes);

// torchvision names → torchport names of the parameters the fixture records
const OURS: Record<string, string> = {
  'roi_heads.box_predictor.cls_score.weight': 'roi_head.cls_score.weight',
  'roi_heads.box_head.fc6.weight': 'roi_head.fc6.weight',
  'rpn.head.cls_logits.weight': 'rpn.objectness.weight',
  'rpn.head.conv.0.0.weight': 'rpn.conv.weight',
  'backbone.fpn.inner_blocks.0.0.weight': 'neck.lateral.0.weight',
  'backbone.body.0.0.weight': 'backbone.features.0.conv.weight',
  'backbone.body.0.1.weight': 'backbone.features.0.bn.weight',
  'backbone.body.16.0.weight': 'backbone.features.16.conv.weight',
  'backbone.body.16.1.bias': 'backbone.features.16.bn.bias',
  'backbone.body.8.block.1.1.weight': 'backbone.features.8.dw.bn.weight',
  'backbone.body.0.1.running_mean': 'backbone.features.0.bn.running_mean',
  'backbone.body.0.1.running_var': 'backbone.features.0.bn.running_var',
  'backbone.body.8.block.1.1.running_mean': 'backbone.features.8.dw.bn.running_mean',
  'backbone.body.16.1.running_var': 'backbone.features.16.bn.running_var',
};

function withBackbone(options: Record<string, unknown>): FasterRCNN {
  const config = structuredClone(detector.config);
  Object.assign(config.backbone, options);
  return createFasterRCNN(config);
}


/** A source that yields the fixture batch `n` times per epoch (the trainer disposes nothing of it). */
function repeated(n: number): BatchSource<DetectionBatch> {
  return {
    batchesPerEpoch: n,
    async *batches(_epoch, start) {
      for (let i = start; i < n; i++) yield batch;
    },
    dispose: () => {},
  };
}

function trainer(model: FasterRCNN, variables: Map<string, tf.Variable>, workDir: string, o: { batches: number; epochs: number; resume?: boolean }): { trainer: Trainer<DetectionBatch>; optimizer: Sgd } {
  const optimizer = new Sgd([...variables.values()].filter((v) => v.trainable), expected.sgd);
  const t = new Trainer({
    model: detectorTrainable(model, variables),
    data: repeated(o.batches),
    optimizer,
    lrAt: () => expected.sgd.lr,
    maxEpochs: o.epochs,
    workDir,
    progress: { iteration: () => {}, message: () => {}, close: () => {} },
    handleSigint: false,
    resume: o.resume,
  });
  return { trainer: t, optimizer };
}

test('the fixture detector has torchvision detection BatchNorm settings: eps 1e-5, momentum 0.1', () => {
  assert.equal(detector.config.backbone.bnEps, expected.batchNorm.eps);
  assert.equal(detector.config.backbone.bnMomentum, expected.batchNorm.momentum);
  assert.ok(!detector.config.backbone.normEval);
});

test('one train-mode step equals torchvision: the four losses, gradients and updated running statistics', (t) => {
  const variables = detectorVariables(detector, weights);
  t.after(() => tf.dispose([...variables.values()]));
  const model = detectorTrainable(detector, variables);
  let terms: Record<string, number> = {};
  let buffers: Record<string, tf.Tensor> = {};
  const { value, grads } = tf.variableGrads(() => {
    const out = model.computeLoss(batch);
    terms = Object.fromEntries(Object.entries(out.terms).map(([k, v]) => [k, v.dataSync()[0]]));
    buffers = out.buffers ?? {};
    for (const b of Object.values(buffers)) tf.keep(b);
    return out.total;
  }, [...variables.values()].filter((v) => v.trainable));
  const want = expected.step1.losses;
  assertRelClose(terms.loss_objectness, want.lossObjectness, 1e-4, 'loss_objectness');
  assertRelClose(terms.loss_rpn_box_reg, want.lossRpnBoxReg, 1e-4, 'loss_rpn_box_reg');
  assertRelClose(terms.loss_classifier, want.lossClassifier, 1e-4, 'loss_classifier');
  assertRelClose(terms.loss_box_reg, want.lossBoxReg, 1e-4, 'loss_box_reg');
  const gradOf = (torchName: string) => grads[variables.get(OURS[torchName])!.name];
  for (const [torchName, norm] of Object.entries(expected.step1.gradNorms)) {
    assertRelClose(tf.tidy(() => tf.norm(gradOf(torchName)).dataSync()[0]), norm, 2e-4, `|grad ${OURS[torchName]}|`);
  }
  for (const torchName of ['roi_heads.box_predictor.cls_score.weight', 'rpn.head.cls_logits.weight', 'backbone.body.0.0.weight', 'backbone.body.0.1.weight', 'backbone.body.16.1.bias']) {
    const file = fixtureNpy(dir, `grad_${torchName}.npy`);
    const spec = detector.specs.find((s) => s.name === OURS[torchName])!;
    const layout = planLayout(spec.kind, file.shape);
    assert.ok(!('error' in layout));
    const wantGrad = permute(file.data as Float32Array, layout.viewShape, layout.perm);
    const err = relErr(gradOf(torchName).dataSync(), wantGrad);
    assert.ok(err < 1e-3, `grad ${OURS[torchName]}: max error ${err.toExponential(2)} of max |grad|`);
  }
  // every BatchNorm outside frozen stages (none are frozen) hands back both running statistics
  const bnLayers = detector.specs.filter((s) => s.name.endsWith('.running_mean')).length;
  assert.equal(Object.keys(buffers).length, 2 * bnLayers);
  for (const [torchName, stats] of Object.entries(expected.step1.runningStats)) {
    const err = relErr(buffers[OURS[torchName]].dataSync(), stats);
    assert.ok(err < 1e-4, `${OURS[torchName]} after one step: max error ${err.toExponential(2)}`);
  }
  tf.dispose([value, ...Object.values(grads), ...Object.values(buffers)]);
});

test(`${expected.steps} SGD steps through the Trainer follow torchvision: weights and running statistics as close as PyTorch's float32 is to float64`, async (ctx) => {
  const workDir = mkdtempSync(join(tmpdir(), 'torchport-train-mode-'));
  try {
    const variables = detectorVariables(detector, weights);
    const { trainer: t, optimizer } = trainer(detector, variables, workDir, { batches: expected.steps, epochs: 1 });
    ctx.after(() => {
      optimizer.dispose();
      tf.dispose([...variables.values()]);
    });
    await t.fit();
    const log = readFileSync(join(workDir, 'train.log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const losses = log.filter((r) => r.mode === 'train').map((r) => r.loss as number);
    assert.equal(losses.length, expected.steps);
    losses.forEach((l, i) => assertRelClose(l, expected.totals[i], 1e-4, `total loss of step ${i + 1}`));
    const after = loadSamplingFixture(new URL('after20.pth', dir)).weights;
    const worst = { weights: { name: '', err: 0 }, stats: { name: '', err: 0 } };
    for (const [name, v] of variables) {
      const want = after[name].dataSync();
      let diff = 0;
      let scale = 1e-2; // zero-initialised biases stay near 0: errors relative to at least 1e-2
      want.forEach((w, i) => {
        diff = Math.max(diff, Math.abs(v.dataSync()[i] - w));
        scale = Math.max(scale, Math.abs(w));
      });
      const slot = /running_(mean|var)$/.test(name) ? worst.stats : worst.weights;
      if (diff / scale > slot.err) Object.assign(slot, { name, err: diff / scale });
    }
    // Bounded by how far PyTorch's own float32 run is from its float64 run (at least 1e-4): BatchNorm
    // biases whose gradient nearly cancels (the next train-mode BatchNorm removes shifts) and late
    // running variances carry ~1e-3 of float32 noise in PyTorch too.
    const bound = (own: number) => Math.max(1e-4, own);
    const { weightsAfter, runningStatsAfter } = expected.float32VsFloat64;
    assert.ok(worst.weights.err <= bound(weightsAfter), `after ${expected.steps} steps ${worst.weights.name} differs by ${worst.weights.err.toExponential(2)} (PyTorch float32 vs float64: ${weightsAfter.toExponential(2)})`);
    assert.ok(worst.stats.err <= bound(runningStatsAfter), `after ${expected.steps} steps ${worst.stats.name} differs by ${worst.stats.err.toExponential(2)} (PyTorch float32 vs float64: ${runningStatsAfter.toExponential(2)})`);
    ctx.diagnostic(`after ${expected.steps} steps: weights ${worst.weights.err.toExponential(2)} (${worst.weights.name}), running statistics ${worst.stats.err.toExponential(2)} (${worst.stats.name})`);
    tf.dispose(Object.values(after));
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
});

function runningStats(variables: Map<string, tf.Variable>): Map<string, Float32Array> {
  return new Map([...variables].filter(([n]) => /running_(mean|var)$/.test(n)).map(([n, v]) => [n, v.dataSync() as Float32Array]));
}

test('normEval keeps every running statistic; frozen stages keep theirs while later layers update', async () => {
  const workDir = mkdtempSync(join(tmpdir(), 'torchport-train-mode-'));
  try {
    for (const [options, isFixed] of [
      [{ normEval: true }, () => true],
      [{ frozenStages: 4 }, (layer: number) => layer <= 4],
    ] as Array<[Record<string, unknown>, (layer: number) => boolean]>) {
      const model = withBackbone(options);
      const variables = detectorVariables(model, weights);
      const before = runningStats(variables);
      const { trainer: t, optimizer } = trainer(model, variables, workDir, { batches: 1, epochs: 1 });
      try {
        await t.fit();
        for (const [name, after] of runningStats(variables)) {
          const layer = Number(/features\.(\d+)\./.exec(name)![1]);
          const same = after.every((x, i) => x === before.get(name)![i]);
          assert.equal(same, isFixed(layer), `${JSON.stringify(options)}: ${name} ${same ? 'unchanged' : 'changed'}`);
        }
      } finally {
        optimizer.dispose();
        tf.dispose([...variables.values()]);
      }
      rmSync(workDir, { recursive: true, force: true });
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
});

test('with train-mode BatchNorm a resumed run ends with exactly the weights and running statistics of an uninterrupted one', async () => {
  const full = mkdtempSync(join(tmpdir(), 'torchport-train-mode-'));
  const split = mkdtempSync(join(tmpdir(), 'torchport-train-mode-'));
  try {
    // variables are named by parameter, so each run's are read out and disposed before the next
    const run = async (workDir: string, epochs: number, resume: boolean) => {
      const variables = detectorVariables(detector, weights);
      const { trainer: t, optimizer } = trainer(detector, variables, workDir, { batches: 1, epochs, resume });
      try {
        await t.fit();
        return new Map([...variables].map(([name, v]) => [name, v.dataSync()]));
      } finally {
        optimizer.dispose();
        tf.dispose([...variables.values()]);
      }
    };
    const a = await run(full, 2, false);
    await run(split, 1, false);
    const b = await run(split, 2, true);
    for (const [name, values] of a) assert.deepEqual(b.get(name), values, name);
  } finally {
    rmSync(full, { recursive: true, force: true });
    rmSync(split, { recursive: true, force: true });
  }
});

test('train-mode BatchNorm on 1x1 maps at batch 1 names the layer and suggests normEval, as PyTorch refuses it', () => {
  const image = tf.zeros([1, 32, 32, 3]) as tf.Tensor4D;
  const variables = detectorVariables(detector, weights as WeightMap);
  const model = detectorTrainable(detector, variables);
  assert.throws(
    () => tf.tidy(() => model.computeLoss({ images: image, imageSizes: [[32, 32]], targets: [{ boxes: new Float32Array([2, 2, 20, 20]), labels: new Int32Array([1]) }] }).total),
    (err: Error) => {
      assert.ok(err instanceof InputError);
      assert.match(err.message, /^features\.\d+\.[a-z.]*bn: train-mode BatchNorm needs more than 1 value per channel, got input shape \[1, 1, 1, \d+\] \(NHWC\); use larger images or batches, or set model\.backbone\.normEval: true/);
      return true;
    },
  );
  tf.dispose([image, ...variables.values()]);
});
