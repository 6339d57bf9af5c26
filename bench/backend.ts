// tfjs (wasm + torchport's kernels) vs PyTorch (OpenBLAS, 1 thread), same shapes, one run, rounds
// interleaved so both sides see the same machine load. Not a test; run by hand:
//   node --import tsx bench/backend.ts [--threads N] [--rounds R] [--only case,case]
// Prints a markdown table: wall time (median and best run) and CPU time (median) per side, and the
// tfjs/torch ratios against the targets (backbone forward <= 1.5x, detector inference <= 2x,
// training step <= 4x). `other cores busy` is how many cores other processes kept busy while the
// case ran (from /proc/stat); on a shared machine wall times read high and jump between rounds, and
// the CPU-time ratio is the steadier comparison (both sides run one thread).
import * as tf from '@tensorflow/tfjs-core';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { selectBackend } from '../src/backend/select.js';
import { createMobileNetV3 } from '../src/models/backbones/mobilenetv3/index.js';
import { fasterrcnnMobileNetV3Large320FPN } from '../src/models/faster-rcnn/config.js';
import { createFasterRCNN } from '../src/models/faster-rcnn/faster-rcnn.js';
import { computeLosses } from '../src/train/faster-rcnn/faster-rcnn-train.js';
import { SeededRandom } from '../src/train/faster-rcnn/random.js';

interface Timing { ms: number; min_ms: number; cpu_ms: number; runs: number; other_cores: number }
type Step = () => void | Promise<void>;
interface Case { name: string; target: number; warmup: number; runs: number; make: () => Step }

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function busySeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
  return (fields.reduce((a, b) => a + b, 0) - fields[3] - fields[4]) / 100; // USER_HZ is 100 on Linux
}

async function measure(fn: Step, warmup: number, runs: number): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  const cpu: number[] = [];
  const b0 = busySeconds();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    const u = process.cpuUsage();
    await fn();
    times.push(performance.now() - s);
    const du = process.cpuUsage(u);
    cpu.push((du.user + du.system) / 1000);
  }
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const other = Math.max(0, (busySeconds() - b0 - (c.user + c.system) / 1e6) / wall);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { ms: median(times), min_ms: Math.min(...times), cpu_ms: median(cpu), runs, other_cores: Math.round(other * 100) / 100 };
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

function forwardCase(batch: number): Step {
  const weights = large.initWeights(0);
  const x = tf.randomUniform([batch, 224, 224, 3]) as tf.Tensor4D;
  return () => {
    const { features, logits } = large.forward(weights, x, { training: false });
    logits!.dataSync();
    tf.dispose([...features, logits!]);
  };
}

function trainCase(): Step {
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

// fasterrcnn_mobilenet_v3_large_320_fpn, 4 classes, seeded random weights, torchvision's default
// sampling sizes (RPN 256 anchors/image, 2000 proposals/image in training, 512 RoIs/image).
const detector = createFasterRCNN(fasterrcnnMobileNetV3Large320FPN({ numClasses: 4 }));

function detectorInferenceCase(): Step {
  const weights = detector.initWeights(0);
  const image = { height: 320, width: 320, data: Uint8Array.from({ length: 320 * 320 * 3 }, (_, i) => (i * 2654435761) >>> 24) };
  return async () => {
    await detector.predict(weights, [image]);
  };
}

function detectorTrainCase(): Step {
  const init = detector.initWeights(0);
  const trainable = new Set(detector.specs.filter((s) => s.trainable).map((s) => s.name));
  const weights = Object.fromEntries(Object.entries(init).map(([k, t]) => [k, trainable.has(k) ? tf.variable(t) : t]));
  const vars = Object.values(weights).filter((t): t is tf.Variable => t instanceof tf.Variable);
  const boxes = Float32Array.of(20, 30, 120, 160, 150, 40, 300, 200, 60, 180, 220, 310);
  const batch = {
    images: tf.randomUniform([2, 320, 320, 3], -2, 2) as tf.Tensor4D,
    imageSizes: [[320, 320], [320, 320]] as Array<[number, number]>,
    targets: [0, 1].map(() => ({ boxes, labels: Int32Array.of(1, 2, 3) })),
  };
  const optimizer = tf.train.momentum(1e-5, 0.9);
  const random = new SeededRandom(0);
  return () => {
    const cost = optimizer.minimize(() => {
      const { lossObjectness, lossRpnBoxReg, lossClassifier, lossBoxReg, bnUpdates } = computeLosses(detector, weights, batch, { random, batchNormTraining: true });
      if (bnUpdates) tf.dispose(Object.values(bnUpdates));
      return tf.addN([lossObjectness, lossRpnBoxReg, lossClassifier, lossBoxReg]) as tf.Scalar;
    }, true, vars)!;
    cost.dataSync();
    cost.dispose();
  };
}

const CASES: Case[] = [
  { name: 'mnv3l-forward-1x224', target: 1.5, warmup: 5, runs: 15, make: () => forwardCase(1) },
  { name: 'mnv3l-forward-8x224', target: 1.5, warmup: 2, runs: 5, make: () => forwardCase(8) },
  { name: 'mnv3l-train-2x224', target: 4, warmup: 2, runs: 5, make: trainCase },
  { name: 'frcnn320-inference-1x320', target: 2, warmup: 2, runs: 5, make: detectorInferenceCase },
  { name: 'frcnn320-train-2x320', target: 4, warmup: 1, runs: 2, make: detectorTrainCase },
];
const only = process.argv.indexOf('--only');
if (only >= 0) CASES.splice(0, CASES.length, ...CASES.filter((c) => process.argv[only + 1].split(',').includes(c.name)));

const rounds = arg('--rounds', 2);
console.log(`tfjs: ${choice.detail}`);
console.log('| case | torch wall ms (median / best) | tfjs wall ms (median / best) | wall ratio (median / best) | torch CPU ms | tfjs CPU ms | CPU-time ratio | target | other cores busy (torch / tfjs) |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
for (const c of CASES) {
  const run = c.make();
  const t: Timing[] = [];
  const j: Timing[] = [];
  for (let r = 0; r < rounds; r++) {
    t.push(torch(c.name));
    j.push(await measure(run, c.warmup, c.runs));
  }
  // the best round of each side: the one least disturbed by other processes
  const best = (xs: Timing[], k: 'ms' | 'min_ms' | 'cpu_ms') => Math.min(...xs.map((x) => x[k]));
  const [tm, tb, tc, jm, jb, jc] = [best(t, 'ms'), best(t, 'min_ms'), best(t, 'cpu_ms'), best(j, 'ms'), best(j, 'min_ms'), best(j, 'cpu_ms')];
  const f = (x: number) => x.toFixed(0);
  console.log(
    `| ${c.name} | ${f(tm)} / ${f(tb)} | ${f(jm)} / ${f(jb)} | ${(jm / tm).toFixed(2)} / ${(jb / tb).toFixed(2)} | ${f(tc)} | ${f(jc)} | ${(jc / tc).toFixed(2)} | ≤ ${c.target} | ${t.map((x) => x.other_cores).join(', ')} / ${j.map((x) => x.other_cores).join(', ')} |`,
  );
}
console.log(`tensors alive at the end: ${tf.memory().numTensors}`);
