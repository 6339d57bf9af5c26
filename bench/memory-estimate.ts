// Calibration (not a test) of src/train/memory-estimate.ts: one training step of the d-li14 +
// 5-level FPN config on wasm, in this fresh process, on synthetic images of the worst-case padded
// size; prints the wasm heap size it reached and the peak RSS next to the estimate.
//   node --import tsx bench/memory-estimate.ts --min 320 --max 640 --batch 1 [--micro 1] [--rois 512]
// The heap never shrinks, so its size after the step is the step's peak; run one cell per process.
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/backend/select.js';
import { backendMemory } from '../src/backend/kernels/wasm-heap.js';
import { loadConfig } from '../src/config/load.js';
import { checkModel } from '../src/config/model.js';
import { validateConfig } from '../src/config/validate.js';
import { detectorTrainable, detectorVariables } from '../src/train/faster-rcnn/trainable.js';
import { estimateStepMemory, worstCaseSize } from '../src/train/memory-estimate.js';
import { stepGradients } from '../src/train/micro-batch.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const batch = Number(arg('batch', '1'));
const micro = process.argv.includes('--micro') ? Number(arg('micro', '1')) : undefined;

await selectBackend('wasm', { training: true });
const { config, file } = await loadConfig('configs/faster-rcnn_mobilenetv3-large-dli14-fpn_1x_coco.js', {
  cfgOptions: [`model.transform.minSize=${arg('min', '320')}`, `model.transform.maxSize=${arg('max', '640')}`, 'model.roiHead.numClasses=81', `model.roiHead.batchSizePerImage=${arg('rois', '512')}`],
});
delete (config.model as { backbone: Record<string, unknown> }).backbone.init_cfg;
const cfg = validateConfig(config, file);
const { detector } = await checkModel(cfg);
const size = worstCaseSize(cfg.model.transform, batch);
const weights = detector.initWeights(1);
const variables = detectorVariables(detector, weights);
tf.dispose(Object.values(weights));
const model = detectorTrainable(detector, variables, { seed: 1 });
const trainable = [...variables.values()].filter((v) => v.trainable);
const images = tf.randomUniform([batch, ...size, 3], -2, 2, 'float32', 1) as tf.Tensor4D;
const box = (i: number) => [20 + 8 * i, 30, 20 + 8 * i + size[1] / 3, 30 + size[0] / 2];
const targets = Array.from({ length: batch }, (_, b) => ({ boxes: new Float32Array([...box(b), ...box(b + 5)]), labels: new Int32Array([1, 2]) }));
const started = performance.now();
const out = await stepGradients(model, { images, imageSizes: Array(batch).fill(size), targets }, trainable, micro);
const loss = (await out.value.data())[0];
const heap = backendMemory(tf.backend() as BackendWasm)!.buffer.byteLength;
const estimate = estimateStepMemory(detector, { images: micro ?? batch, size });
const mb = (b: number) => Math.round(b / 2 ** 20);
console.log(JSON.stringify({
  size, batch, micro, loss, seconds: (performance.now() - started) / 1000,
  heapMB: mb(heap), rssMB: mb(process.resourceUsage().maxRSS * 1024), estimateMB: mb(estimate.bytes),
  stagesMB: Object.fromEntries(Object.entries(estimate.stages).map(([k, v]) => [k, mb(v)])),
}));
