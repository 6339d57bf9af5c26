// Benchmark (not a test): reading a full-size torchvision mobilenet_v3_large state dict (~22 MB) in
// torchport vs torch.load, side by side in one run. Needs /usr/bin/python3 with torch + torchvision
// and a build (`npm run build`). Run: node --import tsx bench/read-checkpoint.ts
// Targets: in-process read ≤ 1.5x torch.load; whole `torchport inspect` ≤ 1/5 of
// `python -c "import torch; torch.load(...)"`; peak RSS ≤ 2x the file size above Node's baseline.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCheckpoint } from '../src/checkpoint/read.js';
import { extractStateDict } from '../src/checkpoint/extract.js';

const PY = '/usr/bin/python3';
const ROOT = join(import.meta.dirname, '..');
const DIR = join(tmpdir(), 'torchport-bench');
const env = { ...process.env, OMP_NUM_THREADS: '1' };
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x: number): string => `${x.toFixed(1)} ms`;

function generate(): Record<string, string> {
  mkdirSync(DIR, { recursive: true });
  const files = { zip: join(DIR, 'mobilenet_v3_large.pth'), legacy: join(DIR, 'mobilenet_v3_large_legacy.pth') };
  execFileSync(PY, ['-c', `
import torch, torchvision
torch.manual_seed(0)
sd = torchvision.models.mobilenet_v3_large().state_dict()
torch.save(sd, ${JSON.stringify(files.zip)})
torch.save(sd, ${JSON.stringify(files.legacy)}, _use_new_zipfile_serialization=False)
`], { env });
  return files;
}

/** torch.load timed inside one Python process (import excluded), median of `n`. */
function torchLoadMs(file: string, n: number): number {
  const out = execFileSync(PY, ['-c', `
import time, torch
ts = []
for _ in range(${n}):
    t = time.perf_counter(); torch.load(${JSON.stringify(file)}); ts.append((time.perf_counter() - t) * 1000)
print(sorted(ts)[len(ts) // 2])
`], { env, encoding: 'utf8' });
  return Number(out.trim());
}

function readMs(file: string, n: number): number {
  const ts: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    extractStateDict(readCheckpoint(file).object);
    ts.push(performance.now() - t);
  }
  return median(ts);
}

function processMs(cmd: string, args: string[], n: number): number {
  const ts: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = spawnSync(cmd, args, { env, stdio: 'ignore', cwd: ROOT });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
    ts.push(performance.now() - t);
  }
  return median(ts);
}

/** Peak RSS of a fresh Node process reading the file, above its RSS just before reading. */
function peakRssAboveBaseline(file: string): number {
  const script = `
const { readCheckpoint } = await import(${JSON.stringify(join(ROOT, 'dist', 'checkpoint', 'read.js'))});
const base = process.memoryUsage().rss;
const ckpt = readCheckpoint(${JSON.stringify(file)});
const peak = process.resourceUsage().maxRSS * 1024;
console.log(Math.max(peak, process.memoryUsage().rss) - base, ckpt.records.length);`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  return Number(out.split(' ')[0]);
}

const files = generate();
const rows: string[] = [];
for (const [format, file] of Object.entries(files)) {
  const size = statSync(file).size;
  readMs(file, 3); // warm up
  const ours = readMs(file, 15);
  const torch = torchLoadMs(file, 15);
  const rss = peakRssAboveBaseline(file);
  rows.push(`${format.padEnd(6)} ${(size / 1e6).toFixed(1)} MB | in-process: torchport ${ms(ours)} vs torch.load ${ms(torch)} `
    + `= ${(ours / torch).toFixed(2)}x (target ≤ 1.5x) | peak RSS above baseline ${(rss / 1e6).toFixed(1)} MB `
    + `= ${(rss / size).toFixed(2)}x file (target ≤ 2x)`);
  if (format === 'zip') {
    const inspect = processMs(process.execPath, [join(ROOT, 'bin', 'torchport.js'), 'inspect', file], 5);
    const python = processMs(PY, ['-c', `import torch; torch.load(${JSON.stringify(file)})`], 3);
    rows.push(`${''.padEnd(6)} whole process: torchport inspect ${ms(inspect)} vs python torch.load ${ms(python)} `
      + `= ${(inspect / python).toFixed(2)} (target ≤ 0.20)`);
  }
}
console.log(rows.join('\n'));
