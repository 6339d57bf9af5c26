// Benchmark (not a test): whole-process `torchport convert` of a full-size torchvision
// mobilenet_v3_large checkpoint, and the forward time of the converted model at 224x224, batch 1
// and 8, on the tfjs cpu and wasm backends, side by side with PyTorch CPU (1 thread, OpenBLAS) on
// the same input in the same run.
//
//   npm run build && node --import tsx bench/convert-forward.ts [--quick]
//
// Generates its checkpoint with /usr/bin/python3 (torch 1.13) in a temp folder (never committed).
// Prints a table and writes .tmp/bench-convert-forward.json. Medians of n runs after warm-up; the
// load average is recorded because the machine is shared.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/backend/select.js';
import { decodeNpy } from '../src/io/npy.js';
import { disposeConverted, loadConverted } from '../src/mapping/convert.js';

const quick = process.argv.includes('--quick');
const ROOT = join(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'torchport-bench-'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

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
        ts = []
        for _ in range(reps if b == 1 else max(3, reps // 3)):
            t = time.perf_counter(); m(x); ts.append((time.perf_counter() - t) * 1000)
    out[b] = sorted(ts)[len(ts) // 2]
print(json.dumps(out))
`;
const env = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' };
const load0 = loadavg()[0];
const py = spawnSync('/usr/bin/python3', ['-c', PY, work, quick ? '5' : '15'], { encoding: 'utf8', env });
if (py.status !== 0) throw new Error(`python failed: ${py.stderr}`);
const torchMs = JSON.parse(py.stdout.trim().split('\n').pop()!) as Record<string, number>;
const ckpt = join(work, 'mobilenet_v3_large.pth');

// Whole-process convert, as a user runs it.
const convertMs: number[] = [];
const out = join(work, 'converted');
for (let i = 0; i < (quick ? 3 : 7); i++) {
  const t = performance.now();
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'torchport.js'), 'convert', ckpt, '--out', out], { encoding: 'utf8' });
  convertMs.push(performance.now() - t);
  if (r.status !== 0) throw new Error(`convert failed: ${r.stderr}`);
}
const nodeStartMs: number[] = [];
for (let i = 0; i < 5; i++) {
  const t = performance.now();
  spawnSync(process.execPath, ['-e', '0']);
  nodeStartMs.push(performance.now() - t);
}

// Forward on each backend (eval mode, reading the results back).
const forwardMs: Record<string, Record<number, number>> = {};
for (const backend of ['wasm', 'cpu'] as const) {
  await selectBackend(backend);
  const loaded = await loadConverted(out);
  forwardMs[backend] = {};
  for (const b of [1, 8]) {
    const nchw = decodeNpy(readFileSync(join(work, `x${b}.npy`)));
    const x = tf.tidy(() => tf.transpose(tf.tensor4d(nchw.data as Float32Array, nchw.shape as [number, number, number, number]), [0, 2, 3, 1])) as tf.Tensor4D;
    const slow = backend === 'cpu';
    const reps = slow ? (b === 1 ? 3 : 1) : quick ? 5 : b === 1 ? 15 : 5;
    const run = async () => {
      const t = performance.now();
      const o = loaded.model.forward(loaded.weights, x);
      await Promise.all([...o.features.map((f) => f.data()), o.logits?.data()]);
      tf.dispose([...o.features, o.logits ?? []]);
      return performance.now() - t;
    };
    for (let i = 0; i < (slow ? 1 : 3); i++) await run();
    const ts: number[] = [];
    for (let i = 0; i < reps; i++) ts.push(await run());
    forwardMs[backend][b] = median(ts);
    x.dispose();
  }
  disposeConverted(loaded);
}
const load1 = loadavg()[0];
rmSync(work, { recursive: true, force: true });

const result = {
  machine: `${process.env.HOSTNAME ?? 'host'}: 2 vCPU shared by several jobs; load average ${load0.toFixed(1)} → ${load1.toFixed(1)} during the run`,
  convertWholeProcessMs: median(convertMs),
  nodeStartupMs: median(nodeStartMs),
  forwardMs: { torch: torchMs, ...forwardMs },
  ratio: Object.fromEntries(Object.entries(forwardMs).map(([k, v]) => [k, { 1: v[1] / torchMs[1], 8: v[8] / torchMs[8] }])),
};
mkdirSync(join(ROOT, '.tmp'), { recursive: true });
writeFileSync(join(ROOT, '.tmp', 'bench-convert-forward.json'), `${JSON.stringify(result, null, 1)}\n`);
const f = (x: number) => x.toFixed(0).padStart(7);
console.log(`convert (whole process, median of ${convertMs.length}): ${result.convertWholeProcessMs.toFixed(0)} ms (node startup alone ${result.nodeStartupMs.toFixed(0)} ms)`);
console.log('forward ms (median)   1x224   8x224   ratio 1x / 8x vs torch');
console.log(`torch 1 thread      ${f(torchMs[1])} ${f(torchMs[8])}`);
for (const k of ['wasm', 'cpu']) console.log(`tfjs ${k.padEnd(14)} ${f(forwardMs[k][1])} ${f(forwardMs[k][8])}   ${result.ratio[k][1].toFixed(2)} / ${result.ratio[k][8].toFixed(2)}`);
console.log(result.machine);
