// Benchmark (not a test): training configs/faster-rcnn_mobilenetv3-large-dli14-fpn_1x_coco.js
// (d-li14 MobileNetV3-Large, 5-level FPN from stride 4, mmdetection anchors, RoIAlign over 4
// levels) through `finetune` on wasm, next to its PyTorch twin (bench/seed_config_torch.py,
// 1 thread, OpenBLAS) on the same synthetic images: seconds per iteration, wall clock and CPU time
// of the process (medians after the first iteration; on a busy host the CPU time is the steadier
// figure), and peak RSS, each configuration in a fresh process, at 320/640 and 800/1333, batch 1 and 2.
//   nice -n 5 node --import tsx bench/seed-config.ts [--sizes 320,800] [--batches 1,2]
//     [--iterations 4] [--sides torchport,torch] [--backend wasm]
// Weights are drawn fresh (init_cfg dropped: the cost of a step does not depend on their values).
// Only the ratios within one run mean anything on a shared host.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { writeShapesDataset } from '../src/data/shapes.js';
import type { BackendRequest } from '../src/backend/select.js';

const CONFIG = 'configs/faster-rcnn_mobilenetv3-large-dli14-fpn_1x_coco.js';
const MAX_SIZE: Record<number, number> = { 320: 640, 800: 1333 };
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};

interface Row { sPerIter: number; cpuPerIter: number; first: number; peakMB: number }

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One configuration in this (fresh) process: prints one JSON line. */
async function child(): Promise<void> {
  const { finetune } = await import('../src/train/finetune.js');
  const size = Number(arg('size', '320'));
  const batch = Number(arg('batch', '2'));
  const workDir = arg('work', '');
  // the merged config (paths absolute) without init_cfg, as a JSON config of its own
  const { config } = await loadConfig(CONFIG);
  delete (config.model as { backbone: Record<string, unknown> }).backbone.init_cfg;
  mkdirSync(workDir, { recursive: true });
  const file = join(workDir, 'config.json');
  writeFileSync(file, JSON.stringify(config));
  // wall clock and CPU time at the end of every iteration
  const marks: Array<{ wall: number; cpu: number }> = [];
  const mark = () => {
    const u = process.cpuUsage();
    marks.push({ wall: performance.now() / 1000, cpu: (u.user + u.system) / 1e6 });
  };
  let started = false;
  await finetune({
    config: file,
    data: arg('data', ''),
    workDir,
    backend: arg('backend', 'wasm') as BackendRequest,
    cfgOptions: [
      // whole batches, as the PyTorch twin runs them, whatever the memory estimate says
      `data.batchSize=${batch}`, `data.microBatch=${batch}`, 'data.shuffle=false', 'trainCfg.maxEpochs=1',
      `model.transform.minSize=${size}`, `model.transform.maxSize=${MAX_SIZE[size]}`, 'optimizer.lr=0.001', 'paramScheduler=[]', 'logInterval=1',
    ],
    info: (line) => {
      process.stderr.write(`[torchport ${size} b${batch}] ${line}\n`);
      // the preflight is the last line before the first iteration
      if (!started && line.startsWith('preflight')) (started = true), mark();
    },
    progress: { iteration: mark, message() {}, close() {} },
    handleSigint: false,
  });
  const steps = marks.slice(1).map((m, i) => ({ wall: m.wall - marks[i].wall, cpu: m.cpu - marks[i].cpu }));
  const row: Row = {
    sPerIter: median(steps.slice(1).map((s) => s.wall)),
    cpuPerIter: median(steps.slice(1).map((s) => s.cpu)),
    first: steps[0].wall,
    peakMB: process.resourceUsage().maxRSS / 1024,
  };
  console.log(JSON.stringify(row));
}

function runSide(side: string, size: number, batch: number, data: string, iterations: number, tmp: string): Row | string {
  const r = side === 'torch'
    ? spawnSync('/usr/bin/python3', ['bench/seed_config_torch.py', data, String(size), String(MAX_SIZE[size]), String(batch), String(iterations)], {
      encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', OMP_WAIT_POLICY: 'PASSIVE' },
    })
    : spawnSync(process.execPath, ['--import', 'tsx', 'bench/seed-config.ts', '--child', '--size', String(size), '--batch', String(batch), '--data', data,
      '--work', join(tmp, `work-${size}-${batch}`), '--backend', arg('backend', 'wasm')], { encoding: 'utf8' });
  // the error's own line, not node's version footer
  if (r.status !== 0) return (r.stderr.split('\n').filter((l) => /Error|error:/.test(l)).pop() ?? `exit ${r.status}`).slice(0, 200);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Row;
}

async function main(): Promise<void> {
  const sizes = arg('sizes', '320,800').split(',').map(Number);
  const batches = arg('batches', '1,2').split(',').map(Number);
  const sides = arg('sides', 'torchport,torch').split(',');
  const iterations = Number(arg('iterations', '4'));
  for (const s of sizes) if (!MAX_SIZE[s]) throw new Error(`--sizes: ${s} is not one of ${Object.keys(MAX_SIZE).join(', ')}`);
  const tmp = mkdtempSync(join(tmpdir(), 'torchport-bench-seed-'));
  // one dataset per batch size, one epoch of `iterations` batches (the rare image without shapes
  // is dropped by both sides): 480x480 images, scaled by the transform to 320x320 or 800x800
  const datasets = new Map<number, string>();
  for (const batch of batches) {
    datasets.set(batch, join(tmp, `shapes-${batch}`));
    await writeShapesDataset(datasets.get(batch)!, { train: batch * iterations, val: 1, size: 480, seed: 0, maxShapes: 3 });
  }
  const out: string[] = [
    `training step, ${CONFIG}, backend ${arg('backend', 'wasm')}, ${iterations} iterations (median after the first), a fresh process per cell`,
    '| min/max size | batch | torchport s/it | PyTorch s/it | ratio | torchport CPU s/it | PyTorch CPU s/it | ratio | torchport peak RSS (MB) | PyTorch peak RSS (MB) | ratio |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const size of sizes) {
    for (const batch of batches) {
      const cell: Record<string, Row | string> = {};
      for (const side of sides) {
        cell[side] = runSide(side, size, batch, datasets.get(batch)!, iterations, tmp);
        process.stderr.write(`${side} ${size}/${MAX_SIZE[size]} batch ${batch}: ${JSON.stringify(cell[side])}\n`);
      }
      const t = cell.torchport, p = cell.torch;
      const f = (r: Row | string | undefined, k: keyof Row, d: number) => (r === undefined ? '-' : typeof r === 'string' ? 'failed' : r[k].toFixed(d));
      const ratio = (k: keyof Row) => (typeof t === 'object' && typeof p === 'object' ? `${(t[k] / p[k]).toFixed(2)}x` : '-');
      const cells = (k: keyof Row, d: number) => `${f(t, k, d)} | ${f(p, k, d)} | ${ratio(k)}`;
      out.push(`| ${size}/${MAX_SIZE[size]} | ${batch} | ${cells('sPerIter', 2)} | ${cells('cpuPerIter', 2)} | ${cells('peakMB', 0)} |`);
      for (const [side, r] of Object.entries(cell)) if (typeof r === 'string') out.push(`  ${side} ${size} batch ${batch} failed: ${r}`);
    }
  }
  console.log(out.join('\n'));
  rmSync(tmp, { recursive: true, force: true });
}

if (process.argv.includes('--child')) await child();
else await main();
