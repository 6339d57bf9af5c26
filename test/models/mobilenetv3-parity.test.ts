// The TF.js MobileNetV3 against real PyTorch: torchvision mobilenet_v3_small (width 0.2, 10 classes,
// randomised BatchNorm statistics) with weights converted to canonical names in Python (so this
// test does not depend on the mapping engine), on an odd-sized input, at every feature layer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { selectBackend } from '../../src/backend/select.js';
import { ensureGradients } from '../../src/backend/gradients.js';
import { createMobileNetV3 } from '../../src/models/backbones/mobilenetv3/index.js';
import { canonicalWeights, npyTensor, relativeError, toNchw, toNhwc } from './mobilenetv3-fixtures.js';

const TOLERANCE = 1e-4;
const ALL = Array.from({ length: 13 }, (_, i) => i);

function model(dropout = 0.2) {
  return createMobileNetV3({ variant: 'small', widthMult: 0.2, numClasses: 10, outIndices: ALL, dropout });
}

/** Checks every feature layer and the logits against `<dir>/features_<i>.npy` and `<dir>/logits.npy`. */
function assertMatches(out: { features: tf.Tensor4D[]; logits?: tf.Tensor2D }, dir: string, label: string): void {
  out.features.forEach((f, i) => {
    const err = relativeError(toNchw(f), npyTensor(`${dir}/features_${i}.npy`));
    assert.ok(err <= TOLERANCE, `${label}: features[${i}] differs from PyTorch by ${err.toExponential(2)} (relative to max |x|)`);
  });
  const err = relativeError(out.logits!, npyTensor(`${dir}/logits.npy`));
  assert.ok(err <= TOLERANCE, `${label}: logits differ from PyTorch by ${err.toExponential(2)}`);
}

for (const backend of ['wasm', 'cpu'] as const) {
  test(`torchvision small, eval mode: every feature layer and the logits match PyTorch on ${backend}`, async () => {
    await selectBackend(backend);
    tf.tidy(() => {
      const out = model().forward(canonicalWeights('tv_small_canonical'), toNhwc(npyTensor('input.npy')));
      assert.deepEqual(out.features.map((f) => f.shape), ALL.map((i) => [1, ...npyTensor(`tv_small/features_${i}.npy`).shape.slice(2), npyTensor(`tv_small/features_${i}.npy`).shape[1]]));
      assertMatches(out, 'tv_small', backend);
      assert.equal(out.bnUpdates, undefined);
    });
  });
}

test('d-li14 small (SE before the activation in expanded blocks, eps 1e-5): every feature layer matches PyTorch on wasm', async () => {
  await selectBackend('wasm');
  tf.tidy(() => {
    const net = createMobileNetV3({ variant: 'small', widthMult: 0.15, family: 'dli14', outIndices: ALL });
    const out = net.forward(canonicalWeights('dli14_small_backbone_canonical'), toNhwc(npyTensor('input.npy')));
    out.features.forEach((f, i) => {
      const err = relativeError(toNchw(f), npyTensor(`dli14_small/features_${i}.npy`));
      assert.ok(err <= TOLERANCE, `features[${i}] differs from PyTorch by ${err.toExponential(2)}`);
    });
    assert.equal(out.logits, undefined);
  });
});

for (const backend of ['wasm', 'cpu'] as const) {
  test(`torchvision small, train mode: batch statistics, outputs and updated running stats match PyTorch on ${backend}`, async () => {
    await selectBackend(backend);
    tf.tidy(() => {
      const weights = canonicalWeights('tv_small_canonical');
      const out = model(0).forward(weights, toNhwc(npyTensor('tv_small/train/input.npy')), { training: true });
      assertMatches(out, 'tv_small/train', 'train mode');
      const expected = canonicalWeights('tv_small/train/running_stats');
      assert.deepEqual(Object.keys(out.bnUpdates!).sort(), Object.keys(expected).sort());
      for (const [name, t] of Object.entries(expected)) {
        const err = relativeError(out.bnUpdates![name], t);
        assert.ok(err <= TOLERANCE, `${name} differs from PyTorch's updated running stat by ${err.toExponential(2)}`);
      }
    });
  });
}

test('normEval and frozenStages keep BatchNorm on running statistics in train mode', async () => {
  await selectBackend('cpu');
  tf.tidy(() => {
    const weights = canonicalWeights('tv_small_canonical');
    const x = toNhwc(npyTensor('input.npy'));
    const normEval = createMobileNetV3({ variant: 'small', widthMult: 0.2, numClasses: 10, outIndices: ALL, normEval: true, dropout: 0 });
    const out = normEval.forward(weights, x, { training: true });
    assertMatches(out, 'tv_small', 'normEval');
    assert.equal(out.bnUpdates, undefined);

    // frozenStages 4: features[0..4] behave as in eval mode, features[5..] use batch statistics.
    const frozen = createMobileNetV3({ variant: 'small', widthMult: 0.2, numClasses: 10, outIndices: ALL, frozenStages: 4, dropout: 0 });
    const partial = frozen.forward(weights, x, { training: true });
    for (let i = 0; i <= 4; i++) assert.ok(relativeError(toNchw(partial.features[i]), npyTensor(`tv_small/features_${i}.npy`)) <= TOLERANCE);
    assert.ok(relativeError(toNchw(partial.features[5]), npyTensor('tv_small/features_5.npy')) > 1e-2);
    const updated = Object.keys(partial.bnUpdates!);
    assert.ok(updated.length > 0 && updated.every((k) => Number(k.split('.')[1]) > 4), updated.join(', '));
  });
});

test('dropout acts on the classifier only, in train mode only', async () => {
  await selectBackend('cpu');
  tf.tidy(() => {
    const weights = canonicalWeights('tv_small_canonical');
    const x = toNhwc(npyTensor('tv_small/train/input.npy'));
    const plain = model(0).forward(weights, x, { training: true });
    const dropped = model(0.5).forward(weights, x, { training: true });
    plain.features.forEach((f, i) => assert.equal(relativeError(dropped.features[i], f), 0));
    assert.ok(relativeError(dropped.logits!, plain.logits!) > 1e-3);
    assertMatches(model(0.5).forward(weights, toNhwc(npyTensor('input.npy'))), 'tv_small', 'eval with dropout 0.5');
  });
});

for (const backend of ['wasm', 'cpu'] as const) {
  test(`train-mode gradients match PyTorch's (stem, an SE + hard-swish block, last conv, head) on ${backend}`, async () => {
    await ensureGradients();
    await selectBackend(backend);
    const net = model(0);
    const weights = canonicalWeights('tv_small_canonical');
    const expected = canonicalWeights('tv_small/train/grads');
    const x = toNhwc(npyTensor('tv_small/train/input.npy'));
    const r = npyTensor('tv_small/train/loss_weights.npy');
    const names = Object.keys(expected);
    const grads = tf.grads((...ws: tf.Tensor[]) => {
      const w = { ...weights };
      names.forEach((n, i) => (w[n] = ws[i]));
      return tf.sum(tf.mul(net.forward(w, x, { training: true }).logits!, r));
    })(names.map((n) => weights[n]));
    // Some true gradients are 0 (features.4.project.bn.bias: later batch-statistics BatchNorms remove
    // any constant shift), so errors are relative to at least 1e-3 of the largest gradient.
    const floor = 1e-3 * Math.max(...Object.values(expected).map((t) => tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0])));
    names.forEach((n, i) => {
      const err = tf.tidy(() => tf.max(tf.abs(tf.sub(grads[i], expected[n]))).dataSync()[0] / Math.max(tf.max(tf.abs(expected[n])).dataSync()[0], floor));
      assert.ok(err <= TOLERANCE, `d/d ${n} differs from PyTorch by ${err.toExponential(2)}`);
    });
    tf.dispose([...grads, x, r, ...Object.values(weights), ...Object.values(expected)]);
  });
}

test('gradients reach every trainable parameter, and frozen stages are not trainable', async () => {
  await ensureGradients();
  await selectBackend('cpu');
  const net = createMobileNetV3({ variant: 'small', widthMult: 0.2, numClasses: 10, frozenStages: 2, dropout: 0 });
  const weights = canonicalWeights('tv_small_canonical');
  const x = toNhwc(npyTensor('tv_small/train/input.npy'));
  const trainable = net.specs.filter((s) => s.trainable).map((s) => s.name);
  const grads = tf.grads((...ws: tf.Tensor[]) => {
    const w = { ...weights };
    trainable.forEach((n, i) => (w[n] = ws[i]));
    return tf.sum(net.forward(w, x, { training: true }).logits!);
  })(trainable.map((n) => weights[n]));
  const nonZero = grads.filter((g) => tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]) > 0).length;
  assert.equal(nonZero, trainable.length);
  assert.ok(!trainable.some((n) => /^features\.[012]\./.test(n)));
  tf.dispose([...grads, ...Object.values(weights), x]);
});

test('forward leaks no tensors and works on even-sized and batched inputs', async () => {
  await selectBackend('wasm');
  const baseline = tf.memory().numTensors;
  const net = createMobileNetV3({ variant: 'large', widthMult: 0.2, outIndices: [2, 5, 9, 14] });
  const weights = net.initWeights(1);
  const x = tf.randomNormal([2, 64, 48, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
  tf.dispose(net.forward(weights, x).features); // fills the folded-weights cache
  const before = tf.memory().numTensors;
  const out = net.forward(weights, x);
  assert.equal(tf.memory().numTensors, before + 4);
  assert.deepEqual(out.features.map((f) => f.shape), [[2, 16, 12, 8], [2, 8, 6, 8], [2, 4, 3, 16], [2, 2, 2, 32]]);
  const reorderedNet = createMobileNetV3({ variant: 'large', widthMult: 0.2, outIndices: [9, 2] });
  const reordered = reorderedNet.forward(weights, x).features;
  assert.deepEqual(reordered.map((f) => f.shape), [[2, 4, 3, 16], [2, 16, 12, 8]]);
  tf.dispose([...out.features, ...reordered, x, ...Object.values(weights)]);
  net.releaseCache();
  reorderedNet.releaseCache();
  assert.equal(tf.memory().numTensors, baseline);

});

test('cached folded weights follow weight updates (tf.Variable.assign)', async () => {
  await selectBackend('wasm');
  const net = model();
  const fixed = canonicalWeights('tv_small_canonical');
  const variables = Object.fromEntries(Object.entries(fixed).map(([k, t]) => [k, tf.variable(t)]));
  const x = toNhwc(npyTensor('input.npy'));
  const first = net.forward(variables, x).logits!;
  const changed = tf.mul(fixed['features.3.dw.bn.running_var'], 2);
  variables['features.3.dw.bn.running_var'].assign(changed);
  const second = net.forward(variables, x).logits!;
  const fresh = model().forward({ ...fixed, 'features.3.dw.bn.running_var': changed }, x).logits!;
  assert.ok(relativeError(second, first) > 1e-3);
  assert.equal(relativeError(second, fresh), 0);
  net.releaseCache();
  tf.dispose([first, second, fresh, changed, x, ...Object.values(fixed), ...Object.values(variables)]);
});

test('missing or mis-shaped weights and bad inputs are InputErrors with exact messages', async () => {
  await selectBackend('cpu');
  const net = model();
  const weights = canonicalWeights('tv_small_canonical');
  const x = toNhwc(npyTensor('input.npy'));
  const { ['features.4.se.fc1.bias']: dropped, ...missing } = weights;
  assert.throws(() => net.forward(missing, x), {
    name: 'InputError',
    message: "the weights have no 'features.4.se.fc1.bias' (the model needs every declared parameter)",
  });
  const wrong = tf.zeros([3, 3, 16, 1]);
  assert.throws(() => net.forward({ ...weights, 'features.1.dw.conv.weight': wrong }, x), {
    name: 'InputError',
    message: "'features.1.dw.conv.weight' has shape [3, 3, 16, 1], the model needs [3, 3, 8, 1]",
  });
  const nchw = tf.zeros([1, 3, 32, 32]) as tf.Tensor4D;
  assert.throws(() => net.forward(weights, nchw), {
    name: 'InputError',
    message: 'the input must be a float32 NHWC tensor [N, H, W, 3], got float32 [1, 3, 32, 32]',
  });
  tf.dispose([dropped, wrong, nchw, x, ...Object.values(weights)]);
});
