// tfjs (wasm + torchport's kernels) vs PyTorch (OpenBLAS, 1 thread), same shapes, one run, rounds
// interleaved so both sides see the same machine load. Not a test; run by hand:
//   node --import tsx bench/backend.ts [--threads N] [--rounds R]
// Prints a markdown table: median and best time per side, and tfjs/torch ratios against the
// targets (forward <= 1.5x, training step <= 4x). `other cores` is how many cores other processes
// kept busy while the case ran (from /proc/stat): numbers from a contended machine read high.
import * as tf from '@tensorflow/tfjs-core';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { selectBackend } from '../src/backend/select.js';
import { createMobileNetV3 } from '../src/models/backbones/mobilenetv3/index.js';

interface Timing { ms: number; min_ms: number; runs: number; other_cores: number }
interface Case { name: string; target: number; warmup: number; runs: number; make: () => () => void }

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function busySeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
  return (fields.reduce((a, b) => a + b, 0) - fields[3] - fields[4]) / 100; // USER_HZ is 100 on Linux
}

function measure(fn: () => void, warmup: number, runs: number): Timing {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  const b0 = busySeconds();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    fn();
    times.push(performance.now() - s);
  }
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const other = Math.max(0, (busySeconds() - b0 - (c.user + c.system) / 1e6) / wall);
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)], min_ms: times[0], runs, other_cores: Math.round(other * 100) / 100 };
}

function torch(name: string): Timing {
  const out = execFileSync('/usr/bin/python3', ['bench/backend_torch.py', name], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' },
  });
  return JSON.parse(out.trim().split('\n').pop()!) as Timing;
}

const choice = await selectBackend('wasm', { threads: arg('--threads', 1), training: true });
const large = createMobileNetV3({ variant: 'large', numClasses: 1000 });

function forwardCase(batch: number): () => void {
  const weights = large.initWeights(0);
  const x = tf.randomUniform([batch, 224, 224, 3]) as tf.Tensor4D;
  return () => {
    const { features, logits } = large.forward(weights, x, { training: false });
    logits!.dataSync();
    tf.dispose([...features, logits!]);
  };
}

function trainCase(): () => void {
  const init = large.initWeights(0);
  const trainable = new Set(large.specs.filter((s) => s.trainable).map((s) => s.name));
  const weights = Object.fromEntries(Object.entries(init).map(([k, t]) => [k, trainable.has(k) ? tf.variable(t) : t]));
  const vars = Object.values(weights).filter((t): t is tf.Variable => t instanceof tf.Variable);
  const x = tf.randomUniform([2, 224, 224, 3]) as tf.Tensor4D;
  const labels = tf.oneHot(tf.tensor1d([1, 7], 'int32'), 1000);
  const optimizer = tf.train.momentum(1e-5, 0.9);
  return () => {
    const cost = optimizer.minimize(() => {
      const { logits } = large.forward(weights, x, { training: true });
      return tf.losses.softmaxCrossEntropy(labels, logits!) as tf.Scalar;
    }, true, vars)!;
    cost.dataSync();
    cost.dispose();
  };
}

// The Faster R-CNN rows (inference 1x320; train step batch 2 x 320 with torchvision's default
// sampling sizes) are added here, and under the same names in bench/backend_torch.py, once the
// tfjs detector exists.
const CASES: Case[] = [
  { name: 'mnv3l-forward-1x224', target: 1.5, warmup: 5, runs: 15, make: () => forwardCase(1) },
  { name: 'mnv3l-forward-8x224', target: 1.5, warmup: 2, runs: 5, make: () => forwardCase(8) },
  { name: 'mnv3l-train-2x224', target: 4, warmup: 2, runs: 5, make: trainCase },
];

const rounds = arg('--rounds', 2);
console.log(`tfjs: ${choice.detail}`);
console.log('| case | torch ms (median / best) | tfjs ms (median / best) | ratio median | ratio best | target | other cores busy (torch / tfjs) |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | --- |');
for (const c of CASES) {
  const run = c.make();
  const t: Timing[] = [];
  const j: Timing[] = [];
  for (let r = 0; r < rounds; r++) {
    t.push(torch(c.name));
    j.push(measure(run, c.warmup, c.runs));
  }
  const best = (xs: Timing[], k: 'ms' | 'min_ms') => Math.min(...xs.map((x) => x[k]));
  const [tm, tb, jm, jb] = [best(t, 'ms'), best(t, 'min_ms'), best(j, 'ms'), best(j, 'min_ms')];
  console.log(
    `| ${c.name} | ${tm.toFixed(0)} / ${tb.toFixed(0)} | ${jm.toFixed(0)} / ${jb.toFixed(0)} | ${(jm / tm).toFixed(2)} | ${(jb / tb).toFixed(2)} | ≤ ${c.target} | ${t.map((x) => x.other_cores).join(', ')} / ${j.map((x) => x.other_cores).join(', ')} |`,
  );
}
console.log(`tensors alive at the end: ${tf.memory().numTensors}`);
