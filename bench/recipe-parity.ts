// Benchmark (not a test): torchvision's from-scratch recipe trained by torchport and by
// torchvision on the same synthetic shapes data for the same number of iterations, several seeds
// each (one run scatters widely this early), both evaluated by torchport's COCOeval.
// The model: fasterrcnn_mobilenet_v3_large_320_fpn with 4 classes, random initialisation,
// BatchNorm in train mode, every layer trainable; SGD lr 0.02, momentum 0.9, weight decay 1e-4,
// linear warm-up over 50 iterations from 0.001; batch 4, flips 0.5, 600 RPN proposals before and
// after NMS in training, 64 RoIs per image. PyTorch's twin: bench/recipe_parity_torch.py.
// Acceptance: last-50-iteration loss within 10% of torchvision's, mean mAP@0.5 at least 0.9x.
// Both sides run whole epochs (the last batch of an epoch may be short): 5 epochs of the 200
// images is 250 iterations when every image has a shape.
//   node --import tsx bench/recipe-parity.ts [--epochs 5] [--seeds 3] [--first-seed 0] [--train 200] [--val 50] [--size 320]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readCocoJson } from '../src/data/coco.js';
import { writeShapesDataset } from '../src/data/shapes.js';
import { evaluateDetections } from '../src/eval/cocoeval.js';
import { toMetrics } from '../src/eval/metrics.js';
import { finetune } from '../src/train/finetune.js';
import * as tf from '@tensorflow/tfjs-core';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const epochs = arg('epochs', 5);
const seeds = arg('seeds', 3);
const firstSeed = arg('first-seed', 0);
const [train, val, size] = [arg('train', 200), arg('val', 50), arg('size', 320)];

const out = mkdtempSync(join(tmpdir(), 'torchport-bench-recipe-'));
const data = join(out, 'shapes');
await writeShapesDataset(data, { train, val, size, seed: 0, maxShapes: 3 });
const gt = readCocoJson(join(data, 'annotations', 'instances_val.json'));
const base = resolve('configs/faster-rcnn_mobilenetv3-large-320-fpn_1x_coco.js');

function torchRun(seed: number): Promise<{ losses: number[]; seconds: number; detections: unknown[] }> {
  const file = join(out, `torch-${seed}.json`);
  return new Promise((ok, fail) => {
    const p = spawn('/usr/bin/python3', ['bench/recipe_parity_torch.py', data, String(epochs), String(seed), file], {
      env: { ...process.env, OMP_NUM_THREADS: '1', OMP_WAIT_POLICY: 'PASSIVE' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    p.on('exit', (code) => (code === 0 ? ok(JSON.parse(readFileSync(file, 'utf8'))) : fail(new Error(`PyTorch side exited ${code}`))));
  });
}

async function torchportRun(seed: number): Promise<{ losses: number[]; seconds: number; map50: number; map: number }> {
  const config = join(out, `recipe-${seed}.js`);
  writeFileSync(config, `export default {
  _base_: [${JSON.stringify(base)}],
  model: {
    backbone: { frozenStages: -1, normEval: false },
    rpn: { preNmsTopN: { train: 600, test: 150 }, postNmsTopN: { train: 600, test: 150 } },
    roiHead: { batchSizePerImage: 64 },
  },
  data: { root: ${JSON.stringify(data)}, batchSize: 4, valBatchSize: 4 },
  optimizer: { type: 'SGD', lr: 0.02, momentum: 0.9, weightDecay: 1e-4 },
  paramScheduler: [{ type: 'LinearLR', startFactor: 0.05, byEpoch: false, begin: 0, end: 50 }],
  trainCfg: { maxEpochs: ${epochs}, valInterval: ${epochs} },
  workDir: ${JSON.stringify(join(out, `work-${seed}`))},
  seed: ${seed},
  backend: 'wasm',
};\n`);
  const started = Date.now();
  const result = await finetune({ config, info: () => {}, handleSigint: false, progress: { iteration: () => {}, message: () => {}, close: () => {} } });
  result.detector.releaseCache();
  tf.dispose([...result.variables.values()]); // the next seed's variables take the same names
  const log = readFileSync(join(out, `work-${seed}`, 'train.log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const losses = log.filter((r) => r.mode === 'train').map((r) => r.loss as number);
  return { losses, seconds: (Date.now() - started) / 1000, map50: result.metrics!.bbox_mAP_50, map: result.metrics!.bbox_mAP };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const rows: string[] = [];
const summary = { iterations: 0, tp: { loss: [] as number[], map50: [] as number[] }, tv: { loss: [] as number[], map50: [] as number[] } };
for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
  // the two sides run at once, one core each
  const [tv, tp] = await Promise.all([torchRun(seed), torchportRun(seed)]);
  const tvMetrics = toMetrics(evaluateDetections(gt, tv.detections as never));
  if (tp.losses.length !== tv.losses.length) throw new Error(`torchport ran ${tp.losses.length} iterations, torchvision ${tv.losses.length}`);
  summary.iterations = tp.losses.length;
  const tvLast = mean(tv.losses.slice(-50));
  const tpLast = mean(tp.losses.slice(-50));
  summary.tp.loss.push(tpLast);
  summary.tp.map50.push(tp.map50);
  summary.tv.loss.push(tvLast);
  summary.tv.map50.push(tvMetrics.bbox_mAP_50 as number);
  rows.push(`| ${seed} | ${tpLast.toFixed(3)} | ${tvLast.toFixed(3)} | ${tp.map50.toFixed(3)} | ${(tvMetrics.bbox_mAP_50 as number).toFixed(3)} | ${tp.map.toFixed(3)} | ${(tvMetrics.bbox_mAP as number).toFixed(3)} | ${tp.seconds.toFixed(0)} / ${tv.seconds.toFixed(0)} |`);
  const curve = (l: number[]) => Array.from({ length: l.length / 25 }, (_, i) => mean(l.slice(25 * i, 25 * i + 25)).toFixed(2)).join(' ');
  console.log(`seed ${seed}: ${rows[rows.length - 1]}`);
  console.log(`seed ${seed} loss per 25 iterations: torchport ${curve(tp.losses)} | torchvision ${curve(tv.losses)}`);
}
console.log(`\nfrom scratch, ${epochs} epochs (${summary.iterations} iterations), ${train}/${val} shapes images at ${size} px, batch 4; COCOeval (torchport's) on the val images`);
console.log('| seed | torchport last-50 loss | torchvision last-50 loss | torchport mAP@0.5 | torchvision mAP@0.5 | torchport mAP | torchvision mAP | wall s (torchport / torchvision training) |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(r);
const lossRatio = mean(summary.tp.loss) / mean(summary.tv.loss);
const mapRatio = mean(summary.tp.map50) / mean(summary.tv.map50);
console.log(`mean last-50 loss ratio ${lossRatio.toFixed(3)} (target within 10%: ${Math.abs(lossRatio - 1) <= 0.1 ? 'met' : 'not met'}); mean mAP@0.5 ratio ${mapRatio.toFixed(3)} (target >= 0.9: ${mapRatio >= 0.9 ? 'met' : 'not met'})`);
rmSync(out, { recursive: true, force: true });
