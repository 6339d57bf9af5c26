import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildLrSchedule } from '../../src/config/schedulers.js';

const close = (a: number, b: number): void => assert.ok(Math.abs(a - b) < 1e-12, `${a} != ${b}`);

test("1x schedule: linear warm-up over 500 iterations, x0.1 after epochs 8 and 11 (mmengine's closed forms)", () => {
  const lr = buildLrSchedule(
    [
      { type: 'LinearLR', startFactor: 0.001, byEpoch: false, begin: 0, end: 500 },
      { type: 'MultiStepLR', byEpoch: true, begin: 0, end: 12, milestones: [8, 11], gamma: 0.1 },
    ],
    0.02,
    { itersPerEpoch: 1000, maxEpochs: 12 },
  );
  close(lr(0), 0.02 * 0.001);
  close(lr(250), 0.02 * (0.001 + 0.999 * 0.5));
  close(lr(500), 0.02);
  close(lr(7999), 0.02);
  close(lr(8000), 0.002);
  close(lr(11000), 0.0002);
});

test('cosine and step schedules', () => {
  const cos = buildLrSchedule([{ type: 'CosineAnnealingLR', byEpoch: false, etaMinRatio: 0.1 }], 1, { itersPerEpoch: 10, maxEpochs: 10 });
  close(cos(0), 1);
  close(cos(50), 0.55);
  close(cos(100), 0.1);
  const step = buildLrSchedule([{ type: 'StepLR', stepSize: 2, gamma: 0.5 }], 1, { itersPerEpoch: 10, maxEpochs: 10 });
  assert.deepEqual([0, 19, 20, 45].map(step), [1, 1, 0.5, 0.25]);
});
