// The training loop on a tiny linear model: loss falls, no tensor leaks, checkpoints, exact resume,
// non-finite loss handling, best-checkpoint selection and the JSON-lines log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Sgd } from '../../src/train/sgd.js';
import { buildLrSchedule } from '../../src/config/schedulers.js';
import { NonFiniteLossError, Trainer, type TrainerOptions } from '../../src/train/trainer.js';
import type { BatchSource, TrainableModel } from '../../src/train/types.js';
import { lineProgress } from '../../src/train/progress.js';
import { loadModelWeights } from '../../src/train/checkpoint.js';
import { InputError } from '../../src/errors.js';

await tf.setBackend('cpu');
tf.enableProdMode();

/** mulberry32: a tiny seeded generator whose whole state is one integer. */
class Rng {
  constructor(public s: number) {}
  next(): number {
    this.s = (this.s + 0x6d2b79f5) | 0;
    let t = Math.imul(this.s ^ (this.s >>> 15), 1 | this.s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

interface Batch {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
}

const N = 12;
const BATCH = 3;
const data = new Rng(7);
const X = Array.from({ length: N }, () => [data.next(), data.next(), data.next(), data.next()].map((v) => v * 2 - 1));
const Y = X.map((r) => [r[0] * 1.5 - r[1] + 0.5 * r[2] + 0.3]);

function source(): BatchSource<Batch> {
  return {
    batchesPerEpoch: N / BATCH,
    async *batches(epoch, start) {
      const order = [...Array(N).keys()];
      const r = new Rng(100 + epoch);
      for (let i = N - 1; i > 0; i--) {
        const j = Math.floor(r.next() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      for (let b = start; b < N / BATCH; b++) {
        const idx = order.slice(b * BATCH, (b + 1) * BATCH);
        yield { x: tf.tensor2d(idx.map((i) => X[i])), y: tf.tensor2d(idx.map((i) => Y[i])) };
      }
    },
    dispose: (b) => tf.dispose([b.x, b.y]),
  };
}

let modelCount = 0;
/** A linear regression whose per-sample weights come from a seeded RNG (like a RoI sampler), plus a frozen offset. */
function linearModel(scale = 1) {
  const id = modelCount++;
  const w = tf.variable(tf.tensor2d([[0.1], [-0.2], [0.05], [0.3]]), true, `m${id}.fc.weight`);
  const b = tf.variable(tf.zeros([1]), true, `m${id}.fc.bias`);
  const frozen = tf.variable(tf.tensor1d([0.25]), false, `m${id}.frozen`);
  const rng = new Rng(42);
  const model: TrainableModel<Batch> = {
    namedVariables: () => new Map([['fc.weight', w], ['fc.bias', b], ['frozen', frozen]]),
    computeLoss: ({ x, y }) => {
      const weights = tf.tensor2d(Array.from({ length: x.shape[0] }, () => [0.5 + rng.next()]));
      const err = tf.sub(tf.add(tf.add(tf.matMul(x, w), b), frozen), y);
      const mse = tf.mul(tf.mean(tf.mul(weights, tf.square(err))), scale) as tf.Scalar;
      const l1 = tf.mul(tf.mean(tf.abs(err)), 0.1) as tf.Scalar;
      return { total: tf.add(mse, l1), terms: { loss_mse: mse, loss_l1: l1 } };
    },
    rng: { getState: () => rng.s, setState: (s) => (rng.s = s as number) },
  };
  return { model, w, b, frozen, dispose: () => tf.dispose([w, b, frozen]) };
}

function datasetError(m: ReturnType<typeof linearModel>): number {
  return tf.tidy(() => tf.mean(tf.square(tf.sub(tf.add(tf.add(tf.matMul(tf.tensor2d(X), m.w), m.b), m.frozen), tf.tensor2d(Y)))).dataSync()[0]);
}

function options(m: ReturnType<typeof linearModel>, workDir: string, extra: Partial<TrainerOptions<Batch>> = {}): TrainerOptions<Batch> {
  const optimizer = new Sgd([m.w, m.b], { lr: 0.1, momentum: 0.9, weightDecay: 1e-3 });
  const lrAt = buildLrSchedule(
    [{ type: 'LinearLR', startFactor: 0.1, byEpoch: false, begin: 0, end: 3 }, { type: 'MultiStepLR', milestones: [2], gamma: 0.1 }],
    0.1,
    { itersPerEpoch: N / BATCH, maxEpochs: 3 },
  );
  return { model: m.model, data: source(), optimizer, lrAt, maxEpochs: 3, workDir, gradClip: { maxNorm: 10 }, progress: lineProgress(() => {}, 1000), handleSigint: false, ...extra };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'torchport-train-'));

test('loss falls, frozen variables stay put, and the tensor count is the same after every iteration', async () => {
  const dir = tmp();
  const m = linearModel();
  const o = options(m, dir);
  const before = datasetError(m);
  const counts: number[] = [];
  const result = await new Trainer({ ...o, afterIteration: (info) => { counts.push(tf.memory().numTensors); assert.ok(info.loss > 0); } }).fit();
  assert.equal(result.status, 'finished');
  assert.deepEqual(result.state, { epoch: 3, batch: 0, iteration: 12 });
  assert.equal(counts.length, 12);
  assert.ok(counts.every((c) => c === counts[0]), `tensor counts ${counts}`);
  assert.ok(datasetError(m) < before / 2, `mean squared error ${before} → ${datasetError(m)}`);
  assert.deepEqual(Array.from(m.frozen.dataSync()), [0.25]);
  const log = readFileSync(join(dir, 'train.log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(log.length, 12);
  assert.deepEqual(Object.keys(log[0]).sort(), ['epoch', 'grad_norm', 'iter', 'iteration', 'loss', 'loss_l1', 'loss_mse', 'lr', 'mode', 'time']);
  assert.equal(log[0].lr, 0.1 * 0.1);
  assert.equal(log[11].lr, 0.1 * 0.1);
  assert.ok(existsSync(join(dir, 'latest', 'model.json')) && existsSync(join(dir, 'latest', 'optimizer', 'model.json')));
  o.optimizer.dispose();
  m.dispose();
  rmSync(dir, { recursive: true });
});

/** An uninterrupted run, and one in `dir` stopped after `iteration` (what Ctrl-C does). */
async function stoppedRun(iteration: number, extra: Partial<TrainerOptions<Batch>> = {}) {
  const full = linearModel();
  const fullOpt = options(full, tmp(), extra);
  await new Trainer(fullOpt).fit();
  const dir = tmp();
  const first = linearModel();
  const firstOpt = options(first, dir, extra);
  const trainer: Trainer<Batch> = new Trainer({ ...firstOpt, afterIteration: (info) => { if (info.iteration === iteration) trainer.requestStop(); } });
  const stopped = await trainer.fit();
  const dispose = () => {
    for (const x of [fullOpt, firstOpt]) x.optimizer.dispose();
    for (const x of [full, first]) x.dispose();
  };
  return { full, dir, stopped, dispose };
}

test('a run stopped mid-epoch and resumed ends with exactly the weights of an uninterrupted run', async () => {
  const { full, dir, stopped, dispose } = await stoppedRun(6);
  assert.equal(stopped.status, 'interrupted');
  assert.equal(stopped.state.epoch, 1);
  assert.equal(stopped.state.batch, 2);

  const second = linearModel(); // fresh weights and RNG: everything must come from the checkpoint
  const secondOpt = options(second, dir, { resume: true });
  const iterations: number[] = [];
  const resumed = await new Trainer({ ...secondOpt, afterIteration: (info) => iterations.push(info.iteration) }).fit();
  assert.equal(resumed.status, 'finished');
  assert.deepEqual(iterations, [7, 8, 9, 10, 11, 12]);
  assert.deepEqual(Array.from(second.w.dataSync()), Array.from(full.w.dataSync()));
  assert.deepEqual(Array.from(second.b.dataSync()), Array.from(full.b.dataSync()));
  secondOpt.optimizer.dispose();
  second.dispose();
  dispose();
});

test('a non-finite loss stops with a clear message and keeps the last good checkpoint', async () => {
  const dir = tmp();
  const m = linearModel(1e30);
  const o = options(m, dir, { gradClip: undefined, lrAt: (i) => (i < 4 ? 1e-40 : 1e10) });
  await assert.rejects(new Trainer(o).fit(), (err: Error) => {
    assert.ok(err instanceof NonFiniteLossError);
    assert.match(err.message, /^loss is not finite at epoch 2, batch \d \(iteration \d\) \(loss (NaN|Infinity), loss_mse/);
    assert.match(err.message, /the last good checkpoint is .*latest/);
    return true;
  });
  const state = JSON.parse(readFileSync(join(dir, 'latest', 'state.json'), 'utf8'));
  assert.equal(state.iteration, 4);
  o.optimizer.dispose();
  m.dispose();
});

test('evaluation every N epochs writes val records and keeps the best checkpoint by the chosen metric', async () => {
  const dir = tmp();
  const m = linearModel();
  const maps = [0.2, 0.5, 0.4];
  const evaluated: number[] = [];
  const o = options(m, dir, { evalInterval: 1, evaluate: async (epoch) => { evaluated.push(epoch); return { bbox_mAP: maps[epoch] }; } });
  const result = await new Trainer(o).fit();
  assert.deepEqual(evaluated, [0, 1, 2]);
  assert.deepEqual(result.state.best, { metric: 'bbox_mAP', value: 0.5, epoch: 2 });
  assert.deepEqual(result.metrics, { bbox_mAP: 0.4 });
  const best = JSON.parse(readFileSync(join(dir, 'best', 'state.json'), 'utf8'));
  assert.equal(best.iteration, 8);
  const val = readFileSync(join(dir, 'train.log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.mode === 'val');
  assert.deepEqual(val.map((r) => [r.epoch, r.bbox_mAP]), [[1, 0.2], [2, 0.5], [3, 0.4]]);
  o.optimizer.dispose();
  m.dispose();
});

test('checkpointInterval saves latest every N epochs and after the last', async () => {
  const dir = tmp();
  const m = linearModel();
  const saved: number[] = [];
  const o = options(m, dir, {
    checkpointInterval: 2,
    afterIteration: () => {
      try {
        saved.push(JSON.parse(readFileSync(join(dir, 'latest', 'state.json'), 'utf8')).epoch);
      } catch {
        saved.push(-1);
      }
    },
  });
  await new Trainer(o).fit();
  // 4 iterations per epoch over 3 epochs: nothing saved in epochs 1-2, epoch 2's save seen in epoch 3.
  assert.deepEqual(saved, [-1, -1, -1, -1, -1, -1, -1, -1, 2, 2, 2, 2]);
  assert.equal(JSON.parse(readFileSync(join(dir, 'latest', 'state.json'), 'utf8')).epoch, 3);
  o.optimizer.dispose();
  m.dispose();
});

test('a device lost mid-run: latest/ is saved from the host copy of the last finished iteration, and one line says how to resume', async () => {
  const dir = tmp();
  const refDir = tmp();
  // the reference: the weights of an uninterrupted run after iteration 5
  const reference = linearModel();
  let after5: Float32Array | undefined;
  await new Trainer(options(reference, refDir, { afterIteration: (info) => { if (info.iteration === 5) after5 = reference.w.dataSync() as Float32Array; } })).fit();
  const m = linearModel();
  let iterations = 0;
  const failing: TrainableModel<Batch> = {
    ...m.model,
    computeLoss: (batch) => {
      if (iterations === 5) throw new Error('Device was destroyed.');
      return m.model.computeLoss(batch);
    },
  };
  const trainer = new Trainer(options(m, dir, {
    model: failing,
    afterIteration: () => iterations++,
    deviceLoss: { lost: (err) => (/destroyed/.test((err as Error).message) ? 'webgpu: the GPU device was lost (destroyed)' : undefined) },
  }));
  await assert.rejects(trainer.fit(), (err: Error) => {
    assert.ok(err instanceof InputError);
    assert.equal(err.message, `webgpu: the GPU device was lost (destroyed); saved ${join(dir, 'latest')} at iteration 5: continue with --resume (on any backend, e.g. --backend wasm)`);
    return true;
  });
  const state = JSON.parse(readFileSync(join(dir, 'latest', 'state.json'), 'utf8'));
  assert.deepEqual([state.epoch, state.batch, state.iteration], [2, 1, 5]);
  const check = linearModel();
  loadModelWeights(join(dir, 'latest'), check.model.namedVariables());
  assert.deepEqual(Array.from(check.w.dataSync()), Array.from(after5!));
  for (const d of [dir, refDir]) rmSync(d, { recursive: true, force: true });
  [m, reference, check].forEach((x) => x.dispose());
});

const records = (dir: string) => readFileSync(join(dir, 'train.log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const stateOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'latest', 'state.json'), 'utf8'));

test('maxIters: an iteration-based run stops after N iterations mid-epoch, evaluating and saving every evalInterval iterations and at the end', async () => {
  const dir = tmp();
  const m = linearModel();
  const evaluated: number[] = [];
  const saved: number[] = [];
  const o = options(m, dir, {
    maxIters: 7,
    evalInterval: 3,
    checkpointInterval: 3,
    evaluate: async (epoch) => { evaluated.push(epoch); return { bbox_mAP: evaluated.length / 10 }; },
    afterIteration: () => saved.push(existsSync(join(dir, 'latest', 'state.json')) ? stateOf(dir).iteration : 0),
  });
  const result = await new Trainer(o).fit();
  assert.equal(result.status, 'finished');
  assert.deepEqual(result.state, { epoch: 1, batch: 3, iteration: 7, best: { metric: 'bbox_mAP', value: 0.3, epoch: 2 } });
  assert.deepEqual(evaluated, [0, 1, 1]); // after iterations 3, 6 and 7: 4 batches per epoch
  assert.deepEqual(saved, [0, 0, 0, 3, 3, 3, 6]);
  const log = records(dir);
  assert.deepEqual(log.filter((r) => r.mode === 'train').map((r) => [r.epoch, r.iter, r.iteration]), [[1, 1, 1], [1, 2, 2], [1, 3, 3], [1, 4, 4], [2, 1, 5], [2, 2, 6], [2, 3, 7]]);
  assert.deepEqual(log.filter((r) => r.mode === 'val').map((r) => [r.epoch, r.iteration]), [[1, 3], [2, 6], [2, 7]]);
  assert.deepEqual([stateOf(dir).epoch, stateOf(dir).batch, stateOf(dir).iteration], [2, 3, 7]);
  o.optimizer.dispose();
  m.dispose();
});

test('epochs are numbered alike in the log lines, the events and state.json; a stop at an epoch\'s last batch resumes exactly', async () => {
  const { full, dir, stopped, dispose } = await stoppedRun(4, { evaluate: async () => ({ bbox_mAP: 0.5 }), evalInterval: 1 });
  assert.equal(stopped.status, 'interrupted');
  const log = records(dir);
  const lastTrain = log.filter((r) => r.mode === 'train').at(-1);
  const interrupted = log.find((r) => r.event === 'interrupted');
  assert.deepEqual([lastTrain.epoch, lastTrain.iter, lastTrain.iteration], [1, 4, 4]);
  assert.deepEqual([interrupted.epoch, interrupted.batch, interrupted.iteration], [1, 4, 4]);
  assert.deepEqual([stateOf(dir).epoch, stateOf(dir).batch, stateOf(dir).iteration], [1, 4, 4]);
  // the epoch's own evaluation ran before the stop, so the resumed run does not repeat it
  assert.deepEqual(log.filter((r) => r.mode === 'val').map((r) => r.epoch), [1]);

  const second = linearModel();
  const secondOpt = options(second, dir, { resume: true, evaluate: async () => ({ bbox_mAP: 0.5 }), evalInterval: 1 });
  const iterations: number[] = [];
  const messages: string[] = [];
  await new Trainer({ ...secondOpt, progress: { iteration: () => {}, message: (l) => messages.push(l), close() {} }, afterIteration: (info) => iterations.push(info.iteration) }).fit();
  assert.equal(messages[0], `resumed from ${join(dir, 'latest')}: epoch 1, batch 4, iteration 4`);
  const resumed = records(dir).find((r) => r.event === 'resume');
  assert.deepEqual([resumed.epoch, resumed.batch, resumed.iteration], [1, 4, 4]);
  assert.deepEqual(iterations, [5, 6, 7, 8, 9, 10, 11, 12]);
  assert.deepEqual(records(dir).filter((r) => r.mode === 'val').map((r) => r.epoch), [1, 2, 3]);
  assert.deepEqual([stateOf(dir).epoch, stateOf(dir).batch, stateOf(dir).iteration], [3, 4, 12]);
  assert.deepEqual(Array.from(second.w.dataSync()), Array.from(full.w.dataSync()));
  secondOpt.optimizer.dispose();
  second.dispose();
  dispose();
});

test('an iteration-based run stopped mid-epoch and resumed ends with exactly the weights of an uninterrupted one', async () => {
  const { full, dir, stopped, dispose } = await stoppedRun(5, { maxIters: 7 });
  assert.equal(stopped.status, 'interrupted');
  const second = linearModel();
  const secondOpt = options(second, dir, { resume: true, maxIters: 7 });
  const iterations: number[] = [];
  const resumed = await new Trainer({ ...secondOpt, afterIteration: (info) => iterations.push(info.iteration) }).fit();
  assert.equal(resumed.status, 'finished');
  assert.deepEqual(iterations, [6, 7]);
  assert.deepEqual(Array.from(second.w.dataSync()), Array.from(full.w.dataSync()));
  assert.deepEqual([stateOf(dir).epoch, stateOf(dir).batch, stateOf(dir).iteration], [2, 3, 7]);
  secondOpt.optimizer.dispose();
  second.dispose();
  dispose();
});
