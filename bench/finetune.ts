// Benchmark (not a test): seconds per iteration and images/s of fine-tuning torchvision's
// fasterrcnn_mobilenet_v3_large_320_fpn (torchport's 320 config: 3 trainable backbone stages,
// frozen BatchNorm, torchvision's default sampling: 256 anchors and 512 RoIs per image) at 320x320,
// batch 2, through the whole training loop (data loading, losses, backward, SGD) on each tfjs
// backend asked for, side by side with torchvision's training step on PyTorch CPU (1 thread,
// OpenBLAS) on the same images, in one run.
//   node --import tsx bench/finetune.ts [--iterations 6] [--backends wasm,cpu]
// The cpu backend needs minutes per step (about 50x wasm; docs/backends.md); ask for it
// explicitly. Steady-state figures drop the first iteration (weight packing, warm-up).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeShapesDataset } from '../src/data/shapes.js';
import { finetune } from '../src/train/finetune.js';
import type { BackendRequest } from '../src/backend/select.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const iterations = Number(arg('iterations', '6'));
const backends = arg('backends', 'wasm').split(',') as BackendRequest[];
const tmp = mkdtempSync(join(tmpdir(), 'torchport-bench-finetune-'));
const data = join(tmp, 'shapes');
await writeShapesDataset(data, { train: 2 * iterations + 2, val: 2, size: 320, seed: 0, maxShapes: 3 });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows: { backend: string; sPerIter: number; first: number }[] = [];
for (const backend of backends) {
  const workDir = join(tmp, `work-${backend}`);
  // one epoch over 2 * iterations images (+ a few that have no shapes and are dropped); no shuffle
  await finetune({
    config: 'configs/faster-rcnn_mobilenetv3-large-320-fpn_1x_coco.js',
    data,
    workDir,
    backend,
    cfgOptions: ['data.batchSize=2', 'data.shuffle=false', 'trainCfg.maxEpochs=1', 'optimizer.lr=0.005', 'paramScheduler=[]', 'logInterval=1'],
    info: (line) => process.stderr.write(`[${backend}] ${line}\n`),
    handleSigint: false,
  });
  const times = readFileSync(join(workDir, 'train.log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    .filter((r) => r.mode === 'train').map((r) => Date.parse(r.time));
  const start = Date.parse(JSON.parse(readFileSync(join(workDir, 'train.log.jsonl'), 'utf8').split('\n')[0]).time);
  const steps = times.map((t, i) => (t - (i === 0 ? start : times[i - 1])) / 1000);
  rows.push({ backend: `tfjs ${backend}`, sPerIter: median(steps.slice(1)), first: steps[0] });
}
const torch = spawnSync('/usr/bin/python3', ['bench/finetune_torch.py', data, String(iterations)], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
if (torch.status !== 0) throw new Error(`PyTorch side failed: ${torch.stderr}`);
const t = JSON.parse(torch.stdout.trim().split('\n').pop()!);
rows.push({ backend: t.backend, sPerIter: t.s_per_iter, first: t.first_s });
const ref = t.s_per_iter as number;
console.log(`fine-tuning step, fasterrcnn_mobilenet_v3_large_320_fpn, 320x320, batch 2, ${iterations} iterations (median after the first iteration)`);
console.log('| backend | s / iteration | images / s | vs PyTorch | first iteration (s) |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(`| ${r.backend} | ${r.sPerIter.toFixed(2)} | ${(2 / r.sPerIter).toFixed(2)} | ${(r.sPerIter / ref).toFixed(2)}x | ${r.first.toFixed(2)} |`);
rmSync(tmp, { recursive: true, force: true });
