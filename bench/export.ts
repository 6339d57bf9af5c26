// Benchmark (not a test): `torchport export --format pth` of the full-size torchvision
// fasterrcnn_mobilenet_v3_large_320_fpn (91 classes, ~76 MB) next to torch.save of the same state
// dict (bench/export_torch.py), in rounds that alternate the two so both see the same load on a
// shared host. Also safetensors. Needs /usr/bin/python3 with torch + torchvision.
// Run: node --import tsx bench/export.ts [rounds]
// Targets: export time ≤ 1.5x torch.save's; peak RSS above the baseline (the process with its
// modules loaded) ≤ 1.5x the file size.
// Before each export or save the previous file is flushed to disk (untimed): replacing a file whose
// writeback is still under way waits for the disk, which would time the disk, not the writer.
// Peak RSS is Linux's VmHWM after resetting it through /proc/self/clear_refs right before the work,
// measured on each process's first export / save (later ones reuse memory the earlier ones freed,
// which would hide it); the timed runs follow it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

const PY = '/usr/bin/python3';
const ROOT = join(import.meta.dirname, '..');
const DIR = join(os.tmpdir(), 'torchport-bench-export');
const env = { ...process.env, OMP_NUM_THREADS: '1', OMP_WAIT_POLICY: 'PASSIVE' };
/** Timed exports (resp. saves) per process after the first: the median is one run well past warm-up. */
const REPS = 5;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const MB = (b: number): string => `${(b / 1e6).toFixed(1)} MB`;

interface Measure { first: number; wall: number; cpu: number; rssAboveBaseline: number }

/**
 * One child process: one export with its peak RSS and wall time measured (what `torchport export`
 * does: one export in a fresh process), then `reps` timed exports (median).
 */
const CHILD = `
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { exportStateDict } from ${JSON.stringify(join(ROOT, 'src', 'export', 'write.ts'))};
const [dir, out, format, reps] = process.argv.slice(2);
const kib = (field) => Number(new RegExp(field + ':\\\\s+(\\\\d+)').exec(readFileSync('/proc/self/status', 'utf8'))[1]);
// Untimed: the file on disk, so that replacing it next does not wait for its writeback.
const settle = () => { if (existsSync(out)) { const fd = openSync(out, 'r'); fsyncSync(fd); closeSync(fd); } };
settle();
globalThis.gc();
const base = kib('VmRSS');
writeFileSync('/proc/self/clear_refs', '5');
const t0 = performance.now();
exportStateDict(dir, out, { format });
const first = performance.now() - t0;
const peak = kib('VmHWM');
const wall = [], cpu = [];
for (let i = 0; i < Number(reps); i++) {
  settle();
  const t = performance.now(), c = process.cpuUsage();
  exportStateDict(dir, out, { format });
  wall.push(performance.now() - t);
  const u = process.cpuUsage(c);
  cpu.push((u.user + u.system) / 1000);
}
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(JSON.stringify({ first, wall: med(wall), cpu: med(cpu), rssAboveBaseline: (peak - base) * 1024 }));
`;

function torchport(dir: string, out: string, format: string, reps: number): Measure {
  const script = join(DIR, 'child.mts');
  writeFileSync(script, CHILD);
  return JSON.parse(execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', script, dir, out, format, String(reps)], { cwd: ROOT, env, encoding: 'utf8' }));
}

function torchSave(ckpt: string, out: string, reps: number): Measure {
  return JSON.parse(execFileSync(PY, [join(ROOT, 'bench', 'export_torch.py'), 'save', ckpt, out, String(reps)], { env, encoding: 'utf8' }));
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 3);
  mkdirSync(DIR, { recursive: true });
  const ckpt = join(DIR, 'fasterrcnn_mobilenet_v3_large_320_fpn.pth');
  const folder = join(DIR, 'converted');
  if (!existsSync(ckpt)) execFileSync(PY, [join(ROOT, 'bench', 'export_torch.py'), 'make', ckpt], { env });
  if (!existsSync(join(folder, 'model.json'))) {
    const { convertCheckpoint } = await import('../src/models/convert.js');
    if (!(await convertCheckpoint(ckpt, folder)).written) throw new Error('the benchmark checkpoint did not convert completely');
  }
  const outs = { torch: join(DIR, 'torch_save.pth'), pth: join(DIR, 'export.pth'), safetensors: join(DIR, 'export.safetensors') };
  const runs: Record<'torch' | 'pth' | 'safetensors', Measure[]> = { torch: [], pth: [], safetensors: [] };
  for (let r = 0; r < rounds; r++) {
    runs.torch.push(torchSave(ckpt, outs.torch, REPS));
    runs.pth.push(torchport(folder, outs.pth, 'pth', REPS));
    runs.safetensors.push(torchport(folder, outs.safetensors, 'safetensors', REPS));
    const ms = (m: Measure): string => `${m.wall.toFixed(0)} ms (first ${m.first.toFixed(0)})`;
    console.log(`round ${r + 1}: torch.save ${ms(runs.torch[r])}, export pth ${ms(runs.pth[r])}, safetensors ${ms(runs.safetensors[r])}`);
  }
  const size = statSync(ckpt).size;
  const torchWall = median(runs.torch.map((m) => m.wall));
  const torchCpu = median(runs.torch.map((m) => m.cpu));
  const torchFirst = median(runs.torch.map((m) => m.first));
  console.log(`host: ${os.cpus().length} x ${os.cpus()[0]?.model}, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} (shared)`);
  console.log(`state dict: ${MB(size)} (torch.save file); exported .pth ${MB(statSync(outs.pth).size)}, safetensors ${MB(statSync(outs.safetensors).size)}`);
  console.log(`torch.save: ${torchWall.toFixed(0)} ms wall, ${torchCpu.toFixed(0)} ms CPU, first in its process ${torchFirst.toFixed(0)} ms; RSS above baseline ${MB(median(runs.torch.map((m) => m.rssAboveBaseline)))}`);
  for (const k of ['pth', 'safetensors'] as const) {
    const wall = median(runs[k].map((m) => m.wall));
    const cpu = median(runs[k].map((m) => m.cpu));
    const rss = median(runs[k].map((m) => m.rssAboveBaseline));
    const first = median(runs[k].map((m) => m.first));
    console.log(
      `export ${k}: ${wall.toFixed(0)} ms wall, ${cpu.toFixed(0)} ms CPU (ratio to torch.save ${(wall / torchWall).toFixed(2)} wall, ${(cpu / torchCpu).toFixed(2)} CPU; target ≤ 1.5); ` +
        `first in its process ${first.toFixed(0)} ms (${(first / torchFirst).toFixed(2)}x); ` +
        `RSS above baseline ${MB(rss)} = ${(rss / size).toFixed(2)}x the file (target ≤ 1.5)`,
    );
  }
  // the exported .pth holds what torch.save wrote
  const same = execFileSync(PY, ['-c', `
import torch
a, b = torch.load(${JSON.stringify(ckpt)}), torch.load(${JSON.stringify(outs.pth)}, weights_only=True)
print(list(a) == list(b) and all(a[k].dtype == b[k].dtype and torch.equal(a[k], b[k]) for k in a))
`], { env, encoding: 'utf8' }).trim();
  console.log(`exported .pth equals the torch.save state dict: ${same}`);
  if (process.env.KEEP !== '1') rmSync(DIR, { recursive: true, force: true });
  else console.log(`kept ${DIR}`);
}

await main();
