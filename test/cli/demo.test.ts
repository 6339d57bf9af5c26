// The demo's path with its default settings (src/train/demo.ts, what `npm run demo` runs):
// shapes dataset → convert the bundled PyTorch detector (assets/demo-detector.pth, pre-trained on
// other shapes) → fine-tune on wasm → evaluate → draw. Asserts the demo's promise: mAP@0.5 at
// least 0.5 on its validation set, from a checkpoint that does not know the classes; the tensor
// count is the same after every iteration; enlarged pictures; the detect command it prints.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { runDemo } from '../../src/train/demo.js';

const out = mkdtempSync(join(tmpdir(), 'torchport-demo-'));
after(() => rmSync(out, { recursive: true, force: true }));

test('the demo (default settings): mAP@0.5 at least 0.5, no tensor leaks, readable pictures, the detect command', async () => {
  const counts: number[] = [];
  const lines: string[] = [];
  // The CLI's defaults (src/cli/commands/demo.ts): 100/30 images of 128 px, 12 epochs.
  const r = await runDemo({
    out, train: 100, val: 30, size: 128, epochs: 12, draw: 2, backend: 'wasm',
    info: (line) => lines.push(line),
    progress: { iteration: () => counts.push(tf.memory().numTensors), message: () => {}, close: () => {} },
  });
  assert.equal(r.finetune.status, 'finished');
  assert.equal(counts.length, 12 * 24); // 95 images with shapes, batches of 4: 24 per epoch
  assert.deepEqual([...new Set(counts)], [counts[0]]);
  // Measured (wasm, torchport's SIMD kernels): epoch-mean loss 1.73 → 0.49, bbox_mAP_50 0.11 (the
  // converted checkpoint, which knows crosses, rings and diamonds) → 0.68. Rounding differs
  // between kernel sets (fused multiply-add or not) and sends long runs apart, hence margins.
  const before = r.finetune.initialMetrics?.bbox_mAP_50 ?? NaN;
  const after = r.finetune.metrics?.bbox_mAP_50 ?? NaN;
  assert.ok(before < 0.25 && after >= 0.5, `bbox_mAP_50 ${before} → ${after}`);
  assert.ok(r.lastEpochLoss < r.firstEpochLoss * 0.5, `loss ${r.firstEpochLoss} → ${r.lastEpochLoss}`);
  assert.ok(lines.some((l) => /^2\/4 converted .*assets\/demo-detector\.pth → .*: 284 matched, 0 missing/.test(l)), lines.join('\n'));
  const metrics = JSON.parse(readFileSync(join(out, 'fine-tuned', 'metrics.json'), 'utf8'));
  assert.equal(metrics.bbox_mAP_50, after);
  assert.deepEqual(r.drawn, [join(out, 'detections', '000001.png'), join(out, 'detections', '000002.png')]);
  for (const f of r.drawn) {
    const { format, width, height } = await sharp(f).metadata();
    assert.deepEqual([format, width, height], ['png', 512, 512], f); // 128 px enlarged 4x
  }
  assert.equal(r.drawDir, join(out, 'detections'));
  assert.equal(r.detectCommand, `torchport detect ${join(out, 'fine-tuned', 'best')} YOUR_IMAGE.png --out ${join(out, 'my-detections')}`);
  tf.dispose([...r.finetune.variables.values()]);
});
