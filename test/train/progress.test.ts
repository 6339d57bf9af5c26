// What the trainer prints: the iteration line, plain lines every N iterations, durations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { barProgress, formatBar, formatDuration, formatIteration, lineProgress, type IterationInfo } from '../../src/train/progress.js';

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

const detector = (iteration: number): IterationInfo => ({
  epoch: 0, maxEpochs: 8, batch: iteration, batchesPerEpoch: 25, iteration, totalIterations: 200, lr: 0.0067, loss: 1.31358,
  terms: { loss_objectness: 0.4977, loss_rpn_box_reg: 0.0554, loss_classifier: 0.6114, loss_box_reg: 0.1492 }, gradNorm: 2.3, itersPerSecond: 0.91, etaSeconds: 216,
});

test('the bar fits the width: loss, lr, it/s and ETA always, then the epoch, the bar and the shortened loss terms as room allows', () => {
  const cases: [number, string][] = [
    [200, '[....................] 3/200 epoch 1/8 loss 1.3136 (obj 0.498 rpn_box 0.0554 cls 0.611 box 0.149) lr 6.70e-3 gn 2.3000 0.91 it/s ETA 3:36'],
    [119, '[..........] 3/200 epoch 1/8 loss 1.3136 (obj 0.498 rpn_box 0.0554 cls 0.611 box 0.149) lr 6.70e-3 0.91 it/s ETA 3:36'],
    [99, '3/200 loss 1.3136 (obj 0.498 rpn_box 0.0554 cls 0.611 box 0.149) lr 6.70e-3 0.91 it/s ETA 3:36'],
    [79, '[..........] 3/200 epoch 1/8 loss 1.3136 lr 6.70e-3 0.91 it/s ETA 3:36'],
    [59, '3/200 epoch 1/8 loss 1.3136 lr 6.70e-3 0.91 it/s ETA 3:36'],
    [44, 'loss 1.3136 lr 6.70e-3 0.91 it/s ETA 3:36'],
  ];
  for (const [width, line] of cases) assert.equal(formatBar(detector(3), width), line, `width ${width}`);
});

test('on a terminal the bar is redrawn in place within the columns, and a whole line stays in the scrollback every interval', () => {
  let out = '';
  const stream = { columns: 80, write: (s: string) => ((out += s), true) } as unknown as NodeJS.WriteStream;
  const p = barProgress(stream, 4);
  for (let i = 1; i <= 9; i++) p.iteration(detector(i));
  p.close();
  const screen = out.split('\n');
  const kept = screen.slice(0, -1);
  assert.deepEqual(kept.map((l) => l.split('\r\x1b[2K').at(-1)), [formatIteration(detector(4)), formatIteration(detector(8))]);
  const bars = out.split(/\r\x1b\[2K|\n/).filter((l) => l.startsWith('['));
  assert.equal(bars.length, 9);
  assert.ok(bars.every((l) => l.length <= 79 && / loss \d\.\d{4} lr \S+ 0\.91 it\/s ETA 3:36$/.test(l)), bars.join('\n'));
  assert.ok(out.endsWith('\r\x1b[2K'), 'close() clears the bar');
});
