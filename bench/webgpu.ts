// webgpu vs wasm on the same work, one process, rounds interleaved so both see the same machine
// load. Not a test; run by hand:
//   node --import tsx bench/webgpu.ts [--cases a,b] [--backends webgpu,wasm] [--rounds R] [--vulkan]
// Without --vulkan, webgpu takes whatever adapter torchport finds, Mesa's software one included
// (the default cases are small for that reason). With --vulkan it asks for a hardware adapter
// through Dawn's Vulkan backend and fails if there is none (bench/gpu-device.sh).
// Cases: mnv3l-forward-NxS (MobileNetV3-large, batch N at S×S), frcnn-inference-1xS (the
// torchvision mobilenet_v3_large FPN detector, 4 classes, random weights: the 320 variant for
// S ≤ 320, otherwise the 800/1333 one), frcnn-train-BxS (one SGD step on the same detector, batch
// B, 3 boxes per image, batch-statistics BatchNorm, torchvision's default sampling).
// Prints a markdown table of median wall ms per backend and webgpu ÷ wasm.
import * as tf from '@tensorflow/tfjs-core';
import { ensureGradients } from '../src/backend/gradients.js';
import { selectBackend } from '../src/backend/select.js';
import { formatAdapter, useWebGpu } from '../src/backend/webgpu.js';
import { createMobileNetV3 } from '../src/models/backbones/mobilenetv3/index.js';
import { fasterrcnnMobileNetV3Large320FPN, fasterrcnnMobileNetV3LargeFPN } from '../src/models/faster-rcnn/config.js';
import { createFasterRCNN } from '../src/models/faster-rcnn/faster-rcnn.js';
import { computeLosses } from '../src/train/faster-rcnn/faster-rcnn-train.js';
import { SeededRandom } from '../src/train/faster-rcnn/random.js';

type Backend = 'webgpu' | 'wasm';
type Step = () => Promise<void>;

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const vulkan = process.argv.includes('--vulkan');
const cases = option('--cases', 'mnv3l-forward-1x96,mnv3l-forward-4x96,frcnn-inference-1x128,frcnn-train-1x128').split(',');
const backends = option('--backends', 'wasm,webgpu').split(',') as Backend[];
const rounds = Number(option('--rounds', '2'));

async function use(backend: Backend): Promise<string> {
  if (backend === 'wasm') return (await selectBackend('wasm', { training: true })).detail;
  await ensureGradients();
  const info = await useWebGpu(vulkan ? { dawnToggles: ['backend=vulkan'] } : { allowSoftware: true });
  return `@tensorflow/tfjs-backend-webgpu on ${formatAdapter(info)}`;
}

/** A synthetic image whose pixels are a fixed hash of their index. */
const image = (h: number, w: number) => ({ height: h, width: w, data: Uint8Array.from({ length: h * w * 3 }, (_, i) => (i * 2654435761) >>> 24) });

function make(name: string): Step {
  const m = /^(mnv3l-forward|frcnn-inference|frcnn-train)-(\d+)x(\d+)$/.exec(name);
  if (!m) throw new Error(`unknown case ${name}`);
  const [kind, batch, size] = [m[1], Number(m[2]), Number(m[3])];
  if (kind === 'mnv3l-forward') {
    const net = createMobileNetV3({ variant: 'large', numClasses: 1000 });
    const weights = net.initWeights(0);
    const x = tf.randomUniform([batch, size, size, 3]) as tf.Tensor4D;
    return async () => {
      const { features, logits } = net.forward(weights, x, { training: false });
      await logits!.data();
      tf.dispose([...features, logits!]);
    };
  }
  const config = (size <= 320 ? fasterrcnnMobileNetV3Large320FPN : fasterrcnnMobileNetV3LargeFPN)({ numClasses: 4 });
  const detector = createFasterRCNN(config);
  if (kind === 'frcnn-inference') {
    const weights = detector.initWeights(0);
    const images = Array.from({ length: batch }, () => image(size, size));
    return async () => {
      await detector.predict(weights, images);
    };
  }
  const init = detector.initWeights(0);
  const trainable = new Set(detector.specs.filter((s) => s.trainable).map((s) => s.name));
  const weights = Object.fromEntries(Object.entries(init).map(([k, t]) => [k, trainable.has(k) ? tf.variable(t) : t]));
  const vars = Object.values(weights).filter((t): t is tf.Variable => t instanceof tf.Variable);
  const s = size / 320;
  const boxes = Float32Array.of(20, 30, 120, 160, 150, 40, 300, 200, 60, 180, 220, 310).map((v) => v * s);
  const data = {
    images: tf.randomUniform([batch, size, size, 3], -2, 2) as tf.Tensor4D,
    imageSizes: Array.from({ length: batch }, () => [size, size] as [number, number]),
    targets: Array.from({ length: batch }, () => ({ boxes, labels: Int32Array.of(1, 2, 3) })),
  };
  const optimizer = tf.train.momentum(1e-5, 0.9);
  const random = new SeededRandom(0);
  return async () => {
    const cost = optimizer.minimize(() => {
      const { lossObjectness, lossRpnBoxReg, lossClassifier, lossBoxReg, bnUpdates } = computeLosses(detector, weights, data, { random, batchNormTraining: true });
      if (bnUpdates) tf.dispose(Object.values(bnUpdates));
      return tf.addN([lossObjectness, lossRpnBoxReg, lossClassifier, lossBoxReg]) as tf.Scalar;
    }, true, vars)!;
    await cost.data();
    cost.dispose();
  };
}

/** Median wall ms of `runs` runs after one warm-up (shader compilation, packing), or why it failed. */
async function measure(step: Step, runs: number): Promise<number | string> {
  try {
    await step();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await step();
      times.push(performance.now() - t0);
    }
    return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
  } catch (error) {
    return `fails: ${(error as Error).message.split('\n')[0]}`;
  }
}

for (const b of backends) console.log(`${b}: ${await use(b)}`);
console.log(`\n| case | ${backends.map((b) => `${b} ms`).join(' | ')} |${backends.length === 2 ? ' ratio |' : ''}`);
console.log(`| --- | ${backends.map(() => '---:').join(' | ')} |${backends.length === 2 ? ' ---: |' : ''}`);
for (const name of cases) {
  const steps = new Map<Backend, Step | string>();
  const results = new Map<Backend, Array<number | string>>(backends.map((b) => [b, []]));
  for (let r = 0; r < rounds; r++) {
    for (const b of backends) {
      await use(b);
      if (!steps.has(b)) {
        try {
          steps.set(b, make(name));
        } catch (error) {
          steps.set(b, `fails: ${(error as Error).message.split('\n')[0]}`);
        }
      }
      const step = steps.get(b)!;
      results.get(b)!.push(typeof step === 'string' ? step : await measure(step, name.startsWith('frcnn-train') ? 1 : 3));
    }
  }
  const best = backends.map((b) => {
    const xs = results.get(b)!;
    const numbers = xs.filter((x): x is number => typeof x === 'number');
    return numbers.length ? Math.min(...numbers) : (xs[0] as string);
  });
  const cell = (x: number | string) => (typeof x === 'number' ? x.toFixed(0) : x);
  const ratio = backends.length === 2 && typeof best[0] === 'number' && typeof best[1] === 'number' ? ` ${(best[1] / best[0]).toFixed(1)} |` : backends.length === 2 ? ' — |' : '';
  console.log(`| ${name} | ${best.map(cell).join(' | ')} |${ratio}`);
}
