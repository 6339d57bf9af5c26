// Benchmark (not a test): reading a full-size torchvision mobilenet_v3_large state dict (~22 MB) in
// torchport vs torch.load, side by side in one run, with and without the CRC-32 check; then a
// generated 3 GB checkpoint (`--big`; needs ~7 GB free in the temp folder, deleted afterwards).
// Needs /usr/bin/python3 with torch + torchvision and a build (`npm run build`).
// Run: node --import tsx bench/read-checkpoint.ts [--big]
// Targets: in-process read (CRC checked) ≤ 1.5x torch.load; whole `torchport inspect` ≤ 1/5 of
// `python -c "import torch; torch.load(...)"`; peak RSS ≤ 2x the file size above Node's baseline;
// 3 GB file: `inspect` < 2 s with RSS < 300 MB, and `convert --key/--filter` of a subset.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { readCheckpoint, type ReadOptions } from '../src/checkpoint/read.js';
import { extractStateDict } from '../src/checkpoint/extract.js';

const PY = '/usr/bin/python3';
const ROOT = join(import.meta.dirname, '..');
const DIR = join(os.tmpdir(), 'torchport-bench');
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

/** Wall and CPU milliseconds (medians). CPU time is reported too: this machine is shared, so wall
 * times include waiting for a core. */
interface Timing { wall: number; cpu: number }
const fmtT = (t: Timing): string => `${ms(t.wall)} wall / ${ms(t.cpu)} CPU`;
const ratio = (a: Timing, b: Timing): string => `${(a.wall / b.wall).toFixed(2)} wall, ${(a.cpu / b.cpu).toFixed(2)} CPU`;

/** torch.load timed inside one Python process (import excluded). */
function torchLoad(file: string, n: number): Timing {
  const out = execFileSync(PY, ['-c', `
import time, torch
w, c = [], []
for _ in range(${n}):
    t, p = time.perf_counter(), time.process_time()
    torch.load(${JSON.stringify(file)})
    w.append((time.perf_counter() - t) * 1000); c.append((time.process_time() - p) * 1000)
print(sorted(w)[len(w) // 2], sorted(c)[len(c) // 2])
`], { env, encoding: 'utf8' });
  const [wall, cpu] = out.trim().split(' ').map(Number);
  return { wall, cpu };
}

/** readCheckpoint + extractStateDict (every tensor read, and by default CRC-checked), in this process. */
function torchportRead(file: string, n: number, opts: ReadOptions = {}): Timing {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const c = process.cpuUsage();
    extractStateDict(readCheckpoint(file, opts).object);
    const d = process.cpuUsage(c);
    wall.push(performance.now() - t);
    cpu.push((d.user + d.system) / 1000);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

/** A whole process, timed by /usr/bin/time (wall, user + sys; peak RSS in bytes). */
function processTime(cmd: string, args: string[], n: number): Timing & { rss: number } {
  const wall: number[] = [];
  const cpu: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', cmd, ...args], { env, cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    const [e, u, s, m] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
    wall.push(e * 1000);
    cpu.push((u + s) * 1000);
    rss.push(m * 1024);
  }
  return { wall: median(wall), cpu: median(cpu), rss: median(rss) };
}

/** Peak RSS of a fresh Node process reading the file, above its RSS just before reading (median of
 * 3). The peak is VmHWM: getrusage's maxRSS would include this parent's RSS, inherited across exec. */
function peakRssAboveBaseline(file: string): number {
  const script = `
const { readFileSync } = await import('node:fs');
const { readCheckpoint } = await import(${JSON.stringify(join(ROOT, 'dist', 'checkpoint', 'read.js'))});
const base = process.memoryUsage().rss;
const ckpt = readCheckpoint(${JSON.stringify(file)});
const hwm = Number(/VmHWM:\\s*(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
console.log(Math.max(hwm, process.memoryUsage().rss) - base, ckpt.records.length);`;
  const runs = [0, 1, 2].map(() => execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
  return median(runs.map((out) => Number(out.split(' ')[0])));
}

/** A ~3 GB zip checkpoint: `model` holds mobilenet_v3_large's state dict plus three 1 GB `aux.*` tensors. */
function bigCheckpoint(): void {
  const file = join(DIR, 'big_3gb.pth');
  execFileSync(PY, ['-c', `
import collections, torch, torchvision
torch.manual_seed(0)
sd = collections.OrderedDict(torchvision.models.mobilenet_v3_large().state_dict())
for i in range(3):
    sd[f'aux.big{i}'] = torch.empty(256 * 1024 * 1024).fill_(float(i))
torch.save({'model': sd, 'epoch': 1}, ${JSON.stringify(file)})
`], { env });
  try {
    const size = statSync(file).size;
    const bin = join(ROOT, 'bin', 'torchport.js');
    const inspect = processTime(process.execPath, [bin, 'inspect', file, '--key', 'model'], 3);
    const out = join(DIR, 'big_subset_tfjs');
    const convert = processTime(process.execPath, [bin, 'convert', file, '--key', 'model', '--filter', '^(features|classifier)\\.', '--out', out], 1);
    rmSync(out, { recursive: true, force: true });
    console.log([
      `generated ${(size / 2 ** 30).toFixed(2)} GiB checkpoint (mobilenet_v3_large + 3 × 1 GiB tensors)`,
      `  torchport inspect --key model: ${fmtT(inspect)}, peak RSS ${(inspect.rss / 1e6).toFixed(0)} MB (target < 2 s, < 300 MB)`,
      `  torchport convert --key model --filter '^(features|classifier)\\.': ${fmtT(convert)}, peak RSS ${(convert.rss / 1e6).toFixed(0)} MB `
        + '(reads and CRC-checks the 22 MB it converts; hashes the whole file for the output\'s metadata)',
    ].join('\n'));
  } finally {
    rmSync(file, { force: true });
  }
}

const files = generate();
const rows: string[] = [`node ${process.version}, ${os.cpus().length} × ${os.cpus()[0].model}, load average ${os.loadavg()[0].toFixed(1)}`];
for (const [format, file] of Object.entries(files)) {
  const size = statSync(file).size;
  torchportRead(file, 3); // warm up
  const ours = torchportRead(file, 15);
  const unchecked = torchportRead(file, 15, { verify: false });
  const torch = torchLoad(file, 15);
  const rss = peakRssAboveBaseline(file);
  rows.push(`${format} (${(size / 1e6).toFixed(1)} MB)`,
    `  in-process read: torchport ${fmtT(ours)} vs torch.load ${fmtT(torch)} = ${ratio(ours, torch)} (target ≤ 1.5)`,
    `  the same with --no-verify: ${fmtT(unchecked)}; the CRC-32 check costs ${(ours.wall - unchecked.wall).toFixed(1)} ms wall`,
    `  peak RSS above Node's baseline: ${(rss / 1e6).toFixed(1)} MB = ${(rss / size).toFixed(2)}x the file (target ≤ 2)`);
  const inspect = processTime(process.execPath, [join(ROOT, 'bin', 'torchport.js'), 'inspect', file], 5);
  const python = processTime(PY, ['-c', `import torch; torch.load(${JSON.stringify(file)})`], 3);
  rows.push(`  whole process: torchport inspect ${fmtT(inspect)} vs python -c "import torch; torch.load(...)" ${fmtT(python)} `
    + `= ${ratio(inspect, python)} (target ≤ 0.20)`);
}
console.log(rows.join('\n'));
if (process.argv.includes('--big')) bigCheckpoint();
