// Benchmark (not a test): whole-process `torchport convert` of a full-size torchvision
// mobilenet_v3_large checkpoint, and the forward time of the converted model at 224x224, batch 1
// and 8, on the tfjs cpu and wasm backends, side by side with PyTorch CPU (1 thread, OpenBLAS) on
// the same input in the same run.
//
//   npm run build && node --import tsx bench/convert-forward.ts [--quick]
//
// Generates its checkpoint with /usr/bin/python3 (torch 1.13) in a temp folder (never committed).
// Prints a table and writes .tmp/bench-convert-forward.json. Medians of n runs after warm-up, as
// wall time and as CPU time of the process (steadier on a shared machine); the load average is
// recorded because the machine is shared.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/backend/select.js';
import { decodeNpy } from '../src/checkpoint/npy.js';
import { disposeConverted, loadConverted } from '../src/models/convert.js';

const quick = process.argv.includes('--quick');
const ROOT = join(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'torchport-bench-'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** Wall time, and CPU time (user + system) of the process: on a shared machine the CPU time is the steadier figure. */
interface Timing { wall: number; cpu: number }
const medianTiming = (xs: Timing[]): Timing => ({ wall: median(xs.map((x) => x.wall)), cpu: median(xs.map((x) => x.cpu)) });

// PyTorch: make the checkpoint and inputs, and time the forward passes in the same process.
const PY = `
import sys, time, json, numpy as np, torch
from torchvision.models import mobilenet_v3_large
torch.set_num_threads(1)
torch.manual_seed(0)
work, reps = sys.argv[1], int(sys.argv[2])
m = mobilenet_v3_large().eval()
torch.save(m.state_dict(), work + '/mobilenet_v3_large.pth')
out = {}
for b in (1, 8):
    x = torch.randn(b, 3, 224, 224)
    np.save(f'{work}/x{b}.npy', x.numpy())
    with torch.no_grad():
        for _ in range(3): m(x)
        ts, cs = [], []
        for _ in range(reps if b == 1 else max(3, reps // 3)):
            t, c = time.perf_counter(), time.process_time(); m(x)
            ts.append((time.perf_counter() - t) * 1000); cs.append((time.process_time() - c) * 1000)
    out[b] = {'wall': sorted(ts)[len(ts) // 2], 'cpu': sorted(cs)[len(cs) // 2]}
print(json.dumps(out))
`;
const env = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' };
const load0 = loadavg()[0];
const py = spawnSync('/usr/bin/python3', ['-c', PY, work, quick ? '5' : '15'], { encoding: 'utf8', env });
if (py.status !== 0) throw new Error(`python failed: ${py.stderr}`);
const torchMs = JSON.parse(py.stdout.trim().split('\n').pop()!) as Record<string, Timing>;
const ckpt = join(work, 'mobilenet_v3_large.pth');

// Whole-process convert, as a user runs it (CPU time of the child via /usr/bin/time).
const convertRuns: Timing[] = [];
const out = join(work, 'converted');
const timed = (args: string[]): Timing => {
  const t = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %U %S', ...args], { encoding: 'utf8' });
  const wall = performance.now() - t;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  const [, user, sys] = /TIME (\S+) (\S+)/.exec(r.stderr)!;
  return { wall, cpu: (Number(user) + Number(sys)) * 1000 };
};
for (let i = 0; i < (quick ? 3 : 7); i++) convertRuns.push(timed([process.execPath, join(ROOT, 'bin', 'torchport.js'), 'convert', ckpt, '--out', out]));
const nodeStart = medianTiming(Array.from({ length: 5 }, () => timed([process.execPath, '-e', '0'])));

// Forward on each backend (eval mode, reading the results back).
const forwardMs: Record<string, Record<number, Timing>> = {};
for (const backend of ['wasm', 'cpu'] as const) {
  await selectBackend(backend);
  const loaded = await loadConverted(out);
  forwardMs[backend] = {};
  for (const b of [1, 8]) {
    const nchw = decodeNpy(readFileSync(join(work, `x${b}.npy`)));
    const x = tf.tidy(() => tf.transpose(tf.tensor4d(nchw.data as Float32Array, nchw.shape as [number, number, number, number]), [0, 2, 3, 1])) as tf.Tensor4D;
    const slow = backend === 'cpu';
    const reps = slow ? (b === 1 ? 3 : 1) : quick ? 5 : b === 1 ? 15 : 5;
    const run = async (): Promise<Timing> => {
      const t = performance.now();
      const c = process.cpuUsage();
      const o = loaded.model.forward(loaded.weights, x);
      await Promise.all([...o.features.map((f) => f.data()), o.logits?.data()]);
      tf.dispose([...o.features, o.logits ?? []]);
      const cpu = process.cpuUsage(c);
      return { wall: performance.now() - t, cpu: (cpu.user + cpu.system) / 1000 };
    };
    for (let i = 0; i < (slow ? 1 : 3); i++) await run();
    const ts: Timing[] = [];
    for (let i = 0; i < reps; i++) ts.push(await run());
    forwardMs[backend][b] = medianTiming(ts);
    x.dispose();
  }
  disposeConverted(loaded);
}
const load1 = loadavg()[0];
rmSync(work, { recursive: true, force: true });

const ratio = (k: string, b: number, m: keyof Timing) => forwardMs[k][b][m] / torchMs[b][m];
const result = {
  machine: `2 vCPU (AMD EPYC, KVM) shared by several jobs; load average ${load0.toFixed(1)} → ${load1.toFixed(1)} during the run`,
  convertWholeProcess: medianTiming(convertRuns),
  nodeStartup: nodeStart,
  forwardMs: { torch: torchMs, ...forwardMs },
  ratio: Object.fromEntries(['wasm', 'cpu'].map((k) => [k, { wall: { 1: ratio(k, 1, 'wall'), 8: ratio(k, 8, 'wall') }, cpu: { 1: ratio(k, 1, 'cpu'), 8: ratio(k, 8, 'cpu') } }])),
};
mkdirSync(join(ROOT, '.tmp'), { recursive: true });
writeFileSync(join(ROOT, '.tmp', 'bench-convert-forward.json'), `${JSON.stringify(result, null, 1)}\n`);
const f = (t: Timing) => `${t.wall.toFixed(0).padStart(6)} / ${t.cpu.toFixed(0).padStart(6)}`;
console.log(`convert, whole process (median of ${convertRuns.length}), wall / CPU ms: ${f(result.convertWholeProcess)}   (node -e 0: ${f(nodeStart)})`);
console.log('forward ms, wall / CPU      1x224             8x224        ratio vs torch (CPU time) 1x / 8x');
console.log(`torch 1 thread         ${f(torchMs[1])}   ${f(torchMs[8])}`);
for (const k of ['wasm', 'cpu']) {
  console.log(`tfjs ${k.padEnd(17)} ${f(forwardMs[k][1])}   ${f(forwardMs[k][8])}   ${ratio(k, 1, 'cpu').toFixed(2)} / ${ratio(k, 8, 'cpu').toFixed(2)} (wall ${ratio(k, 1, 'wall').toFixed(2)} / ${ratio(k, 8, 'wall').toFixed(2)})`);
}
console.log(result.machine);
