// What the trainer prints: the iteration line, plain lines every N iterations, durations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, formatIteration, lineProgress, type IterationInfo } from '../../src/train/progress.js';

const info = (iteration: number, batch: number): IterationInfo => ({
  epoch: 0, maxEpochs: 2, batch, batchesPerEpoch: 5, iteration, totalIterations: 10, lr: 0.02,
  loss: 1.23456, terms: { loss_cls: 0.5, loss_bbox: 0.00012 }, gradNorm: 3.5, itersPerSecond: 1.5, etaSeconds: 3725,
});

test('an iteration line holds the loss terms, lr, grad norm, speed and ETA', () => {
  assert.equal(
    formatIteration(info(3, 3)),
    'epoch 1/2 [3/5] loss 1.2346 (loss_cls 0.5000, loss_bbox 1.20e-4) lr 2.000e-2 grad_norm 3.5000 1.50 it/s ETA 1:02:05',
  );
  assert.equal(formatDuration(65), '1:05');
  assert.equal(formatDuration(Infinity), '?');
});

test('plain lines come every interval and at the end of each epoch', () => {
  const out: string[] = [];
  const p = lineProgress((s) => out.push(s), 2);
  for (let i = 1; i <= 5; i++) p.iteration(info(i, i));
  p.message('evaluated');
  assert.deepEqual(out.map((l) => l.match(/\[(\d)\/5\]/)?.[1] ?? l.trim()), ['2', '4', '5', 'evaluated']);
});
