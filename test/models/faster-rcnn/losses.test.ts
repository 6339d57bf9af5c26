// The four loss functions against torchvision 0.14's own (`RegionProposalNetwork.compute_loss`,
// `fastrcnn_loss`) on random tensors (fixtures/detection-losses/units.json), and their gradients
// against finite differences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../../src/backend/select.js';
import { ensureGradients } from '../../../src/backend/gradients.js';
import { rpnLosses, roiLosses, smoothL1, bceWithLogits } from '../../../src/train/faster-rcnn/losses.js';

await selectBackend('wasm');
await ensureGradients();

const units = JSON.parse(readFileSync(new URL('../../../fixtures/detection-losses/units.json', import.meta.url), 'utf8')) as {
  rpnLoss: { objectness: number[]; deltas: number[]; targets: number[]; labels: number[]; lossObjectness: number; lossRpnBoxReg: number };
  roiLoss: { logits: number[]; regression: number[]; labels: number[]; targets: number[]; lossClassifier: number; lossBoxReg: number };
};

function assertRelClose(actual: number, expected: number, tol: number, what: string): void {
  const rel = Math.abs(actual - expected) / Math.abs(expected);
  assert.ok(rel <= tol, `${what}: ${actual} vs torchvision ${expected} (relative error ${rel.toExponential(2)} > ${tol})`);
}

test('RPN losses equal torchvision compute_loss (BCE over sampled, smooth L1 beta 1/9 over positives / sampled)', () => {
  const u = units.rpnLoss;
  const n = u.objectness.length;
  const out = rpnLosses({
    objectness: tf.tensor1d(u.objectness),
    deltas: tf.tensor2d(u.deltas, [n, 4]),
    sampledLabels: Int8Array.from(u.labels),
    regressionTargets: Float32Array.from(u.targets),
  });
  assertRelClose(out.lossObjectness.dataSync()[0], u.lossObjectness, 1e-6, 'loss_objectness');
  assertRelClose(out.lossRpnBoxReg.dataSync()[0], u.lossRpnBoxReg, 1e-6, 'loss_rpn_box_reg');
});

test('RoI losses equal torchvision fastrcnn_loss (cross-entropy, class-specific smooth L1 / sampled)', () => {
  const u = units.roiLoss;
  const n = u.labels.length;
  const out = roiLosses({
    classLogits: tf.tensor2d(u.logits, [n, 4]),
    boxRegression: tf.tensor2d(u.regression, [n, 16]),
    labels: Int32Array.from(u.labels),
    regressionTargets: Float32Array.from(u.targets),
  });
  assertRelClose(out.lossClassifier.dataSync()[0], u.lossClassifier, 1e-6, 'loss_classifier');
  assertRelClose(out.lossBoxReg.dataSync()[0], u.lossBoxReg, 1e-6, 'loss_box_reg');
});

test('smooth L1 and BCE: values at the branch points and far out; non-finite targets of unused rows do not leak', () => {
  const beta = 1 / 9;
  const d = [0, 0.05, -0.05, beta, 1, -3];
  const got = Array.from(smoothL1(tf.tensor1d(d)).dataSync());
  const want = d.map((x) => (Math.abs(x) < beta ? (0.5 * x * x) / beta : Math.abs(x) - 0.5 * beta));
  got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) < 1e-6, `smoothL1(${d[i]}) = ${g}, want ${want[i]}`));
  const bce = Array.from(bceWithLogits(tf.tensor1d([-100, 0, 100, 2]), tf.tensor1d([0, 1, 1, 0])).dataSync());
  [0, Math.log(2), 0, 2 + Math.log1p(Math.exp(-2))].forEach((w, i) => assert.ok(Math.abs(bce[i] - w) < 1e-5, `bce[${i}] = ${bce[i]}, want ${w}`));
  // a background image's targets are encoded against a zero box (-Infinity); only positives are read
  const out = roiLosses({
    classLogits: tf.tensor2d([[1, 0], [0, 1]]),
    boxRegression: tf.zeros([2, 8]) as tf.Tensor2D,
    labels: Int32Array.from([0, 1]),
    regressionTargets: Float32Array.from([-Infinity, NaN, -Infinity, -Infinity, 0.1, 0.2, 0.3, 0.4]),
  });
  assert.ok(Number.isFinite(out.lossBoxReg.dataSync()[0]));
});

test('loss gradients match central finite differences', () => {
  const u = units.roiLoss;
  const n = u.labels.length;
  const logits = tf.tensor2d(u.logits, [n, 4]);
  const regression = tf.tensor2d(u.regression, [n, 16]);
  const labels = Int32Array.from(u.labels);
  const targets = Float32Array.from(u.targets);
  const total = (l: tf.Tensor2D, r: tf.Tensor2D) => {
    const o = roiLosses({ classLogits: l, boxRegression: r, labels, regressionTargets: targets });
    return tf.add(o.lossClassifier, o.lossBoxReg) as tf.Scalar;
  };
  const [gl, gr] = tf.grads((l: tf.Tensor, r: tf.Tensor) => total(l as tf.Tensor2D, r as tf.Tensor2D))([logits, regression]);
  const eps = 1e-2;
  const check = (which: 0 | 1, grad: tf.Tensor, base: tf.Tensor2D) => {
    const values = base.dataSync().slice();
    const g = grad.dataSync();
    for (const i of [0, 5, 17, 33, values.length - 1]) {
      const at = (delta: number) => {
        const v = values.slice();
        v[i] += delta;
        const t = tf.tensor2d(v, base.shape);
        return (which === 0 ? total(t, regression) : total(logits, t)).dataSync()[0];
      };
      const fd = (at(eps) - at(-eps)) / (2 * eps);
      assert.ok(Math.abs(fd - g[i]) < 2e-3, `d loss / d ${which === 0 ? 'logits' : 'regression'}[${i}]: tape ${g[i]}, finite difference ${fd}`);
    }
  };
  check(0, gl, logits);
  check(1, gr, regression);
});
