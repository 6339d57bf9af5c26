// A short run of the demo's path (src/train/demo.ts, what `torchport demo` runs): shapes dataset →
// convert the bundled PyTorch detector → fine-tune on wasm → evaluate → draw. Asserts the training
// loss falls, mAP@0.5 after fine-tuning is above a measured figure, and the tensor count is the same
// after every iteration of the real detector.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { runDemo } from '../../src/train/demo.js';

const out = mkdtempSync(join(tmpdir(), 'torchport-demo-'));
after(() => rmSync(out, { recursive: true, force: true }));

test('short demo: loss falls, mAP@0.5 ends above 0.05, no tensor leaks, detections drawn', async () => {
  const counts: number[] = [];
  const lines: string[] = [];
  const r = await runDemo({
    out, train: 24, val: 8, size: 128, epochs: 4, draw: 2, backend: 'wasm',
    info: (line) => lines.push(line),
    progress: { iteration: () => counts.push(tf.memory().numTensors), message: () => {}, close: () => {} },
  });
  assert.equal(r.finetune.status, 'finished');
  assert.equal(counts.length, 24); // 21 images kept (3 have no shapes) in batches of 4: 6 per epoch
  assert.deepEqual([...new Set(counts)], [counts[0]]);
  assert.ok(lines.some((l) => /^2\/4 converted .*model\.pth → .*: 284 matched, 0 missing/.test(l)), lines.join('\n'));
  // Measured on this machine (wasm, tfjs 4.22): epoch-mean loss 1.756 → 1.448; bbox_mAP_50 0.138
  // (the converted checkpoint, trained on other shapes) → 0.082 after 24 iterations.
  assert.ok(r.lastEpochLoss < r.firstEpochLoss * 0.9, `loss ${r.firstEpochLoss} → ${r.lastEpochLoss}`);
  const map50 = r.finetune.metrics?.bbox_mAP_50 ?? NaN;
  assert.ok(map50 > 0.05, `bbox_mAP_50 after fine-tuning ${map50}`);
  const metrics = JSON.parse(readFileSync(join(out, 'work', 'metrics.json'), 'utf8'));
  assert.equal(metrics.bbox_mAP_50, map50);
  assert.equal(r.drawn.length, 2);
  for (const f of r.drawn) assert.ok(existsSync(f) && readFileSync(f).subarray(1, 4).toString() === 'PNG', f);
  tf.dispose([...r.finetune.variables.values()]);
});
