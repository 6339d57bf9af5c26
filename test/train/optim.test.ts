// The optimiser, clipping and the config's lr schedules (src/config/schedulers.ts, mmengine's
// param_scheduler form) against real PyTorch (fixtures/gen_optim.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Sgd } from '../../src/train/sgd.js';
import { clipByGlobalNorm } from '../../src/train/clip.js';
import { buildLrSchedule } from '../../src/config/schedulers.js';

await tf.setBackend('cpu');
tf.enableProdMode();

interface SgdCase {
  name: string;
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
  maxNorm: number | null;
  shapes: Record<string, number[]>;
  paramwise: Record<string, { lrMult: number; decayMult: number }>;
  init: Record<string, number[]>;
  steps: { lr: number; grads: Record<string, number[]>; gradNorm: number | null; params: Record<string, number[]> }[];
}

function assertClose(actual: ArrayLike<number>, expected: number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    assert.ok(err <= tol * (1 + Math.abs(expected[i])), `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

const sgdCases = JSON.parse(readFileSync('fixtures/optim/sgd.json', 'utf8')) as SgdCase[];
for (const c of sgdCases) {
  test(`SGD matches torch.optim.SGD: ${c.name}`, () => {
    const vars = Object.entries(c.shapes).map(([n, s]) => tf.variable(tf.tensor(c.init[n], s), true, `${c.name}/${n}`));
    const paramwise = Object.fromEntries(Object.entries(c.paramwise).map(([k, v]) => [`/${k}`, v]));
    const opt = new Sgd(vars, { lr: c.steps[0].lr, momentum: c.momentum, weightDecay: c.weightDecay, nesterov: c.nesterov, paramwise });
    for (const [i, s] of c.steps.entries()) {
      const grads: Record<string, tf.Tensor> = {};
      for (const [n, g] of Object.entries(s.grads)) grads[`${c.name}/${n}`] = tf.tensor(g, c.shapes[n]);
      opt.lr = s.lr;
      if (c.maxNorm !== null) {
        const clipped = clipByGlobalNorm(grads, c.maxNorm);
        assertClose([clipped.norm.dataSync()[0]], [s.gradNorm!], 1e-6, `step ${i} grad norm`);
        opt.step(clipped.grads);
        tf.dispose([clipped.norm, ...Object.values(clipped.grads)]);
      } else {
        opt.step(grads);
      }
      tf.dispose(grads);
      for (const [n, p] of Object.entries(s.params)) {
        assertClose(vars.find((v) => v.name === `${c.name}/${n}`)!.dataSync(), p, 2e-6, `step ${i} ${n}`);
      }
    }
    opt.dispose();
    tf.dispose(vars);
  });
}

test('SGD step leaks no tensors and momentum state round-trips', () => {
  const v = tf.variable(tf.tensor([1, 2, 3]), true, 'leak/v');
  const opt = new Sgd([v], { lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
  const g = { 'leak/v': tf.tensor([0.5, -1, 2]) };
  opt.step(g);
  const before = tf.memory().numTensors;
  opt.step(g);
  assert.equal(tf.memory().numTensors, before);
  const saved = new Map([...opt.state()].map(([k, t]) => [k, t.clone()]));
  const other = new Sgd([v], { lr: 0.1, momentum: 0.9 });
  other.loadState(saved);
  assert.deepEqual(Array.from(other.state().get('leak/v')!.dataSync()), Array.from(opt.state().get('leak/v')!.dataSync()));
  assert.throws(() => other.loadState(new Map()), /optimizer state has no momentum buffer for leak\/v/);
  tf.dispose([...saved.values(), g['leak/v'], v]);
  opt.dispose();
  other.dispose();
});

interface ScheduleCase {
  name: string;
  baseLr: number;
  epochs: number;
  itersPerEpoch: number;
  regular: { policy: 'fixed' | 'step' | 'cosine'; step?: number[]; gamma?: number; minLr?: number };
  byEpoch: boolean;
  warmup: { iters: number; ratio: number } | null;
  lrs: number[];
}

const scheduleCases = JSON.parse(readFileSync('fixtures/optim/schedules.json', 'utf8')) as ScheduleCase[];
for (const c of scheduleCases) {
  test(`param_scheduler lr matches torch's LinearLR warm-up times MultiStepLR/CosineAnnealingLR: ${c.name}`, () => {
    const r = c.regular;
    const configs: Record<string, unknown>[] = [];
    if (c.warmup) configs.push({ type: 'LinearLR', startFactor: c.warmup.ratio, byEpoch: false, begin: 0, end: c.warmup.iters });
    if (r.policy === 'step') configs.push({ type: 'MultiStepLR', milestones: r.step, gamma: r.gamma, byEpoch: c.byEpoch });
    if (r.policy === 'cosine') configs.push({ type: 'CosineAnnealingLR', etaMinRatio: r.minLr! / c.baseLr, byEpoch: c.byEpoch });
    const lrAt = buildLrSchedule(configs, c.baseLr, { itersPerEpoch: c.itersPerEpoch, maxEpochs: c.epochs });
    assertClose(c.lrs.map((_, i) => lrAt(i)), c.lrs, 1e-9, 'lr');
  });
}
