// Training on webgpu, on Mesa's software adapter (40-60x slower than wasm, so every shape is tiny):
// what a training step needs, kernel by kernel against the cpu backend, then MobileNetV3 forward,
// train-mode forward and gradients, the detector's inference, and its RoI losses (given
// torchvision's proposals) against the PyTorch fixtures. The RPN stage reads its outputs
// synchronously, which webgpu in Node cannot (docs/backends.md), so the detector's whole training
// loss is not run here. Skips, with the reason, where webgpu is not usable.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { dense } from '../../src/backend/ops/dense.js';
import { hardSigmoid, hardSwish } from '../../src/backend/ops/hard-activations.js';
import { formatPreflight, preflight } from '../../src/backend/preflight.js';
import { selectBackend } from '../../src/backend/select.js';
import { backendStatus } from '../../src/backend/status.js';
import { createMobileNetV3 } from '../../src/models/backbones/mobilenetv3/index.js';
import { decodeNpy } from '../../src/checkpoint/npy.js';
import { createFasterRCNN } from '../../src/models/faster-rcnn/faster-rcnn.js';
import { roiAlign } from '../../src/models/faster-rcnn/roi-align.js';
import { roiStage } from '../../src/train/faster-rcnn/faster-rcnn-train.js';
import { loadDetectorCheckpoint } from '../../src/models/detectors/load.js';
import { assertClose, f32, FIXTURE, json, npy } from '../models/faster-rcnn/helpers.js';
import { canonicalWeights, npyTensor, toNchw, toNhwc } from '../models/mobilenetv3-fixtures.js';
import { randomValues, relativeError, rng } from './helpers.js';

const status = (await backendStatus()).find((s) => s.backend === 'webgpu')!;
const skip = status.usable ? false : `webgpu is not usable here: ${status.detail}`;

before(async () => {
  if (!skip) await selectBackend('webgpu', { training: true });
});

/** Runs fn on `name` and reads every result back asynchronously (webgpu in Node has no sync read). */
async function on(name: 'cpu' | 'wasm' | 'webgpu', fn: () => tf.Tensor[]): Promise<Float32Array[]> {
  await selectBackend(name);
  assert.equal(tf.getBackend(), name);
  const out = tf.tidy(fn);
  const values = await Promise.all(out.map(async (t) => (await t.data()) as Float32Array));
  tf.dispose(out);
  return values;
}

type Inputs = Record<string, { v: Float32Array; shape: number[] }>;

/** f(inputs) and its gradient with respect to every input, on webgpu and on cpu: equal within tol. */
async function assertSameGradients(what: string, inputs: Inputs, f: (t: Record<string, tf.Tensor>) => tf.Tensor, tol = 1e-4): Promise<void> {
  const names = Object.keys(inputs);
  const run = () => {
    const ts = names.map((n) => tf.tensor(inputs[n].v, inputs[n].shape));
    const call = (...xs: tf.Tensor[]) => f(Object.fromEntries(names.map((n, i) => [n, xs[i]])));
    // A fixed random weighting makes every output element matter to the gradients.
    const out = call(...ts);
    const r = tf.tensor(randomValues(rng(7), out.size), out.shape);
    const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(call(...xs), r)))(ts);
    return [out, ...grads];
  };
  const want = await on('cpu', run);
  const got = await on('webgpu', run);
  ['value', ...names.map((n) => `d/d${n}`)].forEach((label, i) => {
    const err = relativeError(got[i], want[i]);
    assert.ok(err <= tol, `${what}: ${label} differs from cpu by ${err.toExponential(2)}`);
  });
}

const input = (seed: number, ...shape: number[]) => ({ v: randomValues(rng(seed), shape.reduce((a, b) => a * b, 1)), shape });

test('convolutions and their gradients (k 1/3/5, stride 1/2, same/valid/explicit padding) equal cpu', { skip }, async () => {
  const cases: Array<[number, 1 | 2, 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]]]> = [
    [1, 1, 'valid'], [3, 2, 'same'], [3, 1, 'valid'], [5, 2, [[0, 0], [2, 2], [2, 2], [0, 0]]],
  ];
  for (const [k, s, pad] of cases) {
    await assertSameGradients(`conv2d k${k} s${s}`, { x: input(1, 2, 9, 11, 6), w: input(2, k, k, 6, 8) }, ({ x, w }) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, pad));
    await assertSameGradients(`depthwise k${k} s${s}`, { x: input(3, 2, 9, 11, 8), w: input(4, k, k, 8, 1) }, ({ x, w }) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, pad));
  }
});

test('matMul with every transpose, dense, gather (UnsortedSegmentSum), pooling, moments and the hard activations equal cpu', { skip }, async () => {
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
    await assertSameGradients(`matMul ${ta} ${tb}`, { a: input(5, ...(ta ? [20, 12] : [12, 20])), b: input(6, ...(tb ? [9, 20] : [20, 9])) }, ({ a, b }) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, ta, tb));
  }
  await assertSameGradients('dense', { x: input(7, 10, 24), k: input(8, 24, 16), b: input(9, 16) }, ({ x, k, b }) => dense(x as tf.Tensor2D, k as tf.Tensor2D, b as tf.Tensor1D));
  await assertSameGradients('gather', { x: input(10, 8, 16) }, ({ x }) => tf.gather(x, tf.tensor1d([3, 0, 3, 7, 1, 1, 1], 'int32')));
  await assertSameGradients('avgPool / mean', { x: input(11, 2, 8, 8, 4) }, ({ x }) => tf.add(tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid'), tf.mean(x, [1, 2], true)));
  await assertSameGradients('moments + batchNorm', { x: input(12, 2, 5, 5, 4), gamma: input(15, 4), beta: input(16, 4) }, ({ x, gamma, beta }) => {
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    return tf.batchNorm(x, mean, variance, beta, gamma, 1e-3);
  });
  await assertSameGradients('hard-swish, hard-sigmoid', { x: { v: randomValues(rng(13), 256).map((v) => v * 5), shape: [256] } }, ({ x }) => tf.add(hardSwish(x), hardSigmoid(x)));
});

test("RoIAlign (matMul + gather + average pooling) forward and backward equal cpu", { skip }, async () => {
  const boxes = Float32Array.from([1, 2, 20, 14, 0, 0, 31, 31, 10.5, 3.25, 17.75, 29, -4, 20, 6, 40]);
  await assertSameGradients('roiAlign', { f: input(14, 1, 16, 16, 8) }, ({ f }) => roiAlign(f as tf.Tensor4D, boxes, 0.5, { outputSize: 7, samplingRatio: 2, aligned: false }));
});

test('the preflight finds no missing kernel or gradient for a MobileNetV3 training step on webgpu', { skip }, async () => {
  await selectBackend('webgpu');
  const net = createMobileNetV3({ variant: 'small', widthMult: 0.2, numClasses: 10, dropout: 0 });
  const weights = canonicalWeights('tv_small_canonical');
  const vars = Object.entries(weights).map(([n, t]) => tf.variable(t, true, `preflight/${n}`));
  const byName = Object.fromEntries(vars.map((v) => [v.name.slice('preflight/'.length), v as tf.Tensor]));
  const x = toNhwc(npyTensor('tv_small/train/input.npy'));
  const report = await preflight(() => tf.sum(net.forward(byName, x, { training: true }).logits!) as tf.Scalar, vars);
  assert.equal(formatPreflight(report), `preflight on webgpu: ok (loss ${report.loss})`);
  tf.dispose([...vars, x, ...Object.values(weights)]);
});

/** max |a - b| / max |b| with the tensors read asynchronously. */
async function errorTo(actual: tf.Tensor, expected: tf.Tensor): Promise<number> {
  return relativeError(await actual.data(), await expected.data());
}

test('MobileNetV3 (torchvision small, width 0.2) on webgpu: eval and train-mode outputs, running stats and gradients match PyTorch', { skip }, async () => {
  await selectBackend('webgpu');
  const net = createMobileNetV3({ variant: 'small', widthMult: 0.2, numClasses: 10, outIndices: Array.from({ length: 13 }, (_, i) => i), dropout: 0 });
  const weights = canonicalWeights('tv_small_canonical');
  const evalOut = net.forward(weights, toNhwc(npyTensor('input.npy')));
  for (const [i, f] of evalOut.features.entries()) assert.ok((await errorTo(toNchw(f), npyTensor(`tv_small/features_${i}.npy`))) <= 1e-4, `eval features[${i}]`);
  assert.ok((await errorTo(evalOut.logits!, npyTensor('tv_small/logits.npy'))) <= 1e-4, 'eval logits');

  const x = toNhwc(npyTensor('tv_small/train/input.npy'));
  const trainOut = net.forward(weights, x, { training: true });
  assert.ok((await errorTo(trainOut.logits!, npyTensor('tv_small/train/logits.npy'))) <= 1e-4, 'train-mode logits');
  for (const [name, t] of Object.entries(canonicalWeights('tv_small/train/running_stats'))) {
    assert.ok((await errorTo(trainOut.bnUpdates![name], t)) <= 1e-4, `updated ${name}`);
  }

  // PyTorch's gradients of sum(logits * loss_weights) with respect to the parameters it saved.
  const expected = canonicalWeights('tv_small/train/grads');
  const lossWeights = npyTensor('tv_small/train/loss_weights.npy');
  const names = Object.keys(expected);
  const loss = (...chosen: tf.Tensor[]) => {
    const logits = net.forward({ ...weights, ...Object.fromEntries(names.map((n, i) => [n, chosen[i]])) }, x, { training: true }).logits!;
    return tf.sum(tf.mul(logits, lossWeights));
  };
  const grads = tf.grads(loss)(names.map((n) => weights[n]));
  // Some true gradients are 0 (a BatchNorm bias feeding a batch-statistics BatchNorm): errors are
  // relative to at least 1e-3 of the largest gradient, as on wasm and cpu.
  const maxAbs = async (t: tf.Tensor) => Array.from(await t.data()).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const floor = 1e-3 * Math.max(...(await Promise.all(Object.values(expected).map(maxAbs))));
  for (const [i, n] of names.entries()) {
    const [got, want] = [await grads[i].data(), await expected[n].data()];
    let diff = 0;
    for (let k = 0; k < want.length; k++) diff = Math.max(diff, Math.abs(got[k] - want[k]));
    const err = diff / Math.max(await maxAbs(expected[n]), floor);
    assert.ok(err <= 1e-4, `d/d ${n} differs from PyTorch by ${err.toExponential(2)}`);
  }
  tf.dispose([...evalOut.features, evalOut.logits!, trainOut.logits!, ...trainOut.features, ...Object.values(trainOut.bnUpdates ?? {}), ...grads, x, lossWeights, ...Object.values(weights), ...Object.values(expected)]);
  net.releaseCache();
});

test('the detector (reduced fasterrcnn_mobilenet_v3_large_320_fpn) on webgpu: the detections equal torchvision', { skip }, async () => {
  await selectBackend('webgpu');
  const expected = json('expected.json');
  const { model, weights } = loadDetectorCheckpoint(join(FIXTURE, 'model.pth'), { model: 'fasterrcnn_mobilenet_v3_large_320_fpn' });
  const n = 0;
  const t = npy(`image_${n}`);
  const [det] = await model.predict(weights, [{ height: t.shape[0], width: t.shape[1], data: t.data as Uint8Array }]);
  assert.equal(det.boxes.length / 4, expected.images[n].numDetections, 'detection count');
  assert.deepEqual([...det.labels], [...(npy(`det_labels_${n}`).data as Int32Array)], 'labels');
  assertClose(det.boxes, f32(`det_boxes_${n}`), 0.5, 'detection boxes');
  assertClose(det.scores, f32(`det_scores_${n}`), 1e-3, 'detection scores');
  tf.dispose(Object.values(weights));
});

// Gradients against wasm's: the cpu backend takes minutes for the detector's convolution gradients,
// and wasm's equal torchvision's (test/models/faster-rcnn/faster-rcnn-train.test.ts).
test("the detector's RoI losses on webgpu, given torchvision's proposals, equal torchvision's; their gradients equal wasm's", { skip }, async () => {
  const dir = new URL('../../fixtures/detection-losses/', import.meta.url);
  const expected = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8')) as {
    imageSizes: Array<[number, number]>; training: Record<string, number>; losses: Record<string, number>;
  };
  const fixture = (name: string) => decodeNpy(readFileSync(new URL(name, dir)));
  const loaded = loadDetectorCheckpoint(new URL('model.pth', dir).pathname, { model: 'fasterrcnn_mobilenet_v3_large_320_fpn' });
  // The fixture samples every RoI: quotas larger than every candidate set.
  const config = structuredClone(loaded.model.config);
  config.roiHead.batchSizePerImage = expected.training.boxBatchSizePerImage;
  config.roiHead.positiveFraction = expected.training.boxPositiveFraction;
  const detector = createFasterRCNN(config);
  const values = Object.fromEntries(await Promise.all(Object.entries(loaded.weights).map(async ([n, t]) => [n, { v: (await t.data()) as Float32Array, shape: t.shape }] as const)));
  tf.dispose(Object.values(loaded.weights));
  const images = fixture('images.npy');
  const proposals = expected.imageSizes.map((_, i) => fixture(`proposals_${i}.npy`).data as Float32Array);
  const targets = expected.imageSizes.map((_, i) => ({
    boxes: fixture(`boxes_${i}.npy`).data as Float32Array,
    labels: Int32Array.from(fixture(`labels_${i}.npy`).data as ArrayLike<number>),
  }));
  const differentiated = ['roi_head.fc6.weight', 'roi_head.cls_score.weight', 'neck.output.0.weight', 'backbone.features.16.conv.weight'];
  const run = () => {
    const weights = Object.fromEntries(Object.entries(values).map(([n, { v, shape }]) => [n, tf.tensor(v, shape)]));
    const batch = { images: tf.tensor4d(images.data as Float32Array, images.shape as [number, number, number, number]), imageSizes: expected.imageSizes, targets };
    const losses = (...chosen: tf.Tensor[]) => {
      const w = { ...weights, ...Object.fromEntries(differentiated.map((n, i) => [n, chosen[i]])) };
      return roiStage(detector, w, detector.features(w, batch.images).features, proposals, batch);
    };
    const { lossClassifier, lossBoxReg } = losses(...differentiated.map((n) => weights[n]));
    const grads = tf.grads((...chosen: tf.Tensor[]) => {
      const l = losses(...chosen);
      return tf.add(l.lossClassifier, l.lossBoxReg);
    })(differentiated.map((n) => weights[n]));
    return [tf.stack([lossClassifier, lossBoxReg]), ...grads];
  };
  const [got, ...gotGrads] = await on('webgpu', run);
  const relative = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
  assert.ok(relative(got[0], expected.losses.lossClassifier) <= 1e-4, `loss_classifier ${got[0]} vs torchvision ${expected.losses.lossClassifier}`);
  assert.ok(relative(got[1], expected.losses.lossBoxReg) <= 1e-4, `loss_box_reg ${got[1]} vs torchvision ${expected.losses.lossBoxReg}`);
  const [, ...wantGrads] = await on('wasm', run);
  differentiated.forEach((name, i) => {
    const err = relativeError(gotGrads[i], wantGrads[i]);
    assert.ok(err <= 1e-4, `d(RoI losses)/d ${name} differs from wasm by ${err.toExponential(2)}`);
  });
});

test('a whole train-mode detector step on webgpu (proposals read before the tape) equals torchvision: the four losses and the updated running statistics', { skip }, async () => {
  await selectBackend('webgpu', { training: true });
  const { detectorTrainable, detectorVariables } = await import('../../src/train/faster-rcnn/trainable.js');
  const { loadFixtureBatch, loadSamplingFixture } = await import('../models/faster-rcnn/sampling-fixture.js');
  const dir = new URL('../../fixtures/detection-train/', import.meta.url);
  const expected = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8'));
  const fixture = loadSamplingFixture(new URL('model.pth', dir));
  const detector = createFasterRCNN({ ...fixture.detector.config, rpn: { ...fixture.detector.config.rpn, nmsThresh: expected.rpnNmsThresh } });
  const batch = loadFixtureBatch(dir, expected.imageSizes);
  const variables = detectorVariables(detector, fixture.weights);
  const model = detectorTrainable(detector, variables);
  await model.prepare!(batch);
  const out = tf.tidy(() => {
    const l = model.computeLoss(batch);
    return { terms: l.terms, buffers: l.buffers! };
  });
  const terms = Object.fromEntries(await Promise.all(Object.entries(out.terms).map(async ([k, v]) => [k, (await v.data())[0]] as const)));
  const want = expected.step1.losses;
  for (const [ours, theirs] of [['loss_objectness', 'lossObjectness'], ['loss_rpn_box_reg', 'lossRpnBoxReg'], ['loss_classifier', 'lossClassifier'], ['loss_box_reg', 'lossBoxReg']]) {
    assert.ok(Math.abs(terms[ours] - want[theirs]) <= 1e-4 * Math.abs(want[theirs]), `${ours}: ${terms[ours]} vs torchvision ${want[theirs]}`);
  }
  const mean = await out.buffers['backbone.features.0.bn.running_mean'].data();
  assert.ok(relativeError(mean, expected.step1.runningStats['backbone.body.0.1.running_mean']) < 1e-4);
  tf.dispose([...Object.values(out.terms), ...Object.values(out.buffers), batch.images, ...variables.values(), ...Object.values(fixture.weights)]);
});
