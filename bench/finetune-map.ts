// Benchmark (not a test): the mAP torchport and torchvision reach fine-tuning the same bundled
// checkpoint on the same shapes dataset for the same number of iterations (the demo's settings: the
// PyTorch twin reads them from the config torchport resolved), both evaluated by torchport's
// COCOeval. Also their wall time. 12 epochs is `npm run demo`'s run.
//   node --import tsx bench/finetune-map.ts [--epochs 12]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCocoJson } from '../src/data/coco.js';
import { evaluateDetections } from '../src/eval/cocoeval.js';
import { toMetrics } from '../src/eval/metrics.js';
import { DEMO_CHECKPOINT, runDemo } from '../src/train/demo.js';

const i = process.argv.indexOf('--epochs');
const epochs = i > 0 ? Number(process.argv[i + 1]) : 12;
const out = mkdtempSync(join(tmpdir(), 'torchport-bench-map-'));
const started = Date.now();
const demo = await runDemo({ out, train: 100, val: 30, size: 128, epochs, draw: 0, backend: 'wasm', info: (l) => process.stderr.write(`${l}\n`) });
const tfjsSeconds = (Date.now() - started) / 1000;
const iterations = demo.finetune.state.iteration;
const torchOut = join(out, 'torch.json');
const torch = spawnSync('/usr/bin/python3', ['bench/finetune_demo_torch.py', join(out, 'shapes'), join(demo.finetune.workDir, 'config.json'), DEMO_CHECKPOINT, torchOut], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1', OMP_WAIT_POLICY: 'PASSIVE' } });
if (torch.status !== 0) throw new Error(`PyTorch side failed: ${torch.stderr}`);
const t = JSON.parse(readFileSync(torchOut, 'utf8'));
const gt = readCocoJson(join(out, 'shapes', 'annotations', 'instances_val.json'));
const torchMetrics = toMetrics(evaluateDetections(gt, t.detections));
const f = demo.finetune.metrics!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(`demo fine-tuning, ${epochs} epochs, 100/30 shapes images at 128 px (input 320), batch 4; mAP by torchport's COCOeval on the 30 val images`);
console.log('| | iterations | bbox_mAP | bbox_mAP_50 | last-epoch mean loss | wall time (s) |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
console.log(`| torchport (tfjs wasm) | ${iterations} | ${f.bbox_mAP.toFixed(3)} | ${f.bbox_mAP_50.toFixed(3)} | ${demo.lastEpochLoss.toFixed(3)} | ${tfjsSeconds.toFixed(0)} (whole demo) |`);
const perEpoch = t.iterations / epochs;
console.log(`| torchvision (PyTorch CPU, 1 thread) | ${t.iterations} | ${(torchMetrics.bbox_mAP as number).toFixed(3)} | ${(torchMetrics.bbox_mAP_50 as number).toFixed(3)} | ${mean(t.losses.slice(-perEpoch)).toFixed(3)} | ${t.seconds.toFixed(0)} (training only) |`);
console.log(`starting point (the converted checkpoint, torchport): bbox_mAP ${demo.finetune.initialMetrics?.bbox_mAP.toFixed(3)}, bbox_mAP_50 ${demo.finetune.initialMetrics?.bbox_mAP_50.toFixed(3)}`);
rmSync(out, { recursive: true, force: true });
