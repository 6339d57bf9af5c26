// Every model key of a config reaches the code that acts on it: flipping one key changes the
// built detector (parameters, fresh weights), its training step (losses, running statistics) or
// its inference (detections), or is refused with a one-line error. A key nothing acts on would
// train a different model than the config says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import { ensureGradients } from '../../src/backend/gradients.js';
import { loadConfig } from '../../src/config/load.js';
import { checkModel } from '../../src/config/model.js';
import { validateConfig } from '../../src/config/validate.js';
import type { ModelSection } from '../../src/config/types.js';
import { InputError } from '../../src/errors.js';
import { computeLosses } from '../../src/train/faster-rcnn/faster-rcnn-train.js';
import { SeededRandom } from '../../src/train/faster-rcnn/random.js';

await selectBackend('wasm');
await ensureGradients();

const loaded = await loadConfig(new URL('../../configs/faster-rcnn_mobilenetv3-large-320-fpn_1x_coco.js', import.meta.url).pathname);
const shipped = validateConfig(loaded.config, loaded.file).model;

/** The shipped model section, made small and with every stage active on tiny images. */
function baseModel(): ModelSection {
  const m = structuredClone(shipped);
  // features[9] and [16]: strides 16 and 32, so RoIs are spread over levels by their size
  Object.assign(m.backbone, { widthMult: 0.25, frozenStages: 2, normEval: false, outIndices: [9, 16] });
  m.neck.outChannels = 16;
  const sizes = [8, 16, 32, 64, 128];
  m.rpn = { ...m.rpn, anchors: { type: 'torchvision', sizes: [sizes, sizes, sizes], aspectRatios: [[0.5, 1, 2], [0.5, 1, 2], [0.5, 1, 2]] }, preNmsTopN: { train: 60, test: 50 }, postNmsTopN: { train: 40, test: 30 }, batchSizePerImage: 32, scoreThresh: 0.3 };
  m.roiHead = { ...m.roiHead, representationSize: 32, numClasses: 4, scoreThresh: 0.2, batchSizePerImage: 16, detectionsPerImg: 5 };
  m.transform = { ...m.transform, minSize: 64, maxSize: 96 };
  return m;
}

const IMAGE = { height: 72, width: 88, data: Uint8Array.from({ length: 72 * 88 * 3 }, (_, i) => (i * 7919) % 251) };
const BATCH_SIZES: Array<[number, number]> = [[64, 64], [64, 48]];

const round = (xs: ArrayLike<number>) => Array.from(xs, (x) => Number(x.toPrecision(6)));

/** What a model section builds and does: parameters, fresh weights, one training step, detections. */
async function fingerprint(model: ModelSection): Promise<Record<string, unknown>> {
  // the path finetune takes: schema, registries, the detector's own checks
  const cfg = validateConfig({ ...structuredClone(loaded.config), model: structuredClone(model) } as never, loaded.file);
  const { detector } = await checkModel(cfg);
  const weights = detector.initWeights(3);
  const specs = detector.specs.map((s) => `${s.name}:${s.shape.join('x')}:${s.trainable}`);
  const init = round(Object.values(weights).map((t) => tf.tidy(() => tf.sum(tf.mul(t, t)).dataSync()[0])));
  const images = tf.tidy(() => tf.randomUniform([2, 64, 64, 3], -1, 1, 'float32', 5)) as tf.Tensor4D;
  const batch = {
    images,
    imageSizes: BATCH_SIZES,
    targets: [
      { boxes: new Float32Array([4, 6, 40, 50, 30, 20, 60, 62]), labels: new Int32Array([1, 3]) },
      { boxes: new Float32Array([10, 8, 30, 44]), labels: new Int32Array([2]) },
    ],
  };
  const step = tf.tidy(() => {
    const l = computeLosses(detector, weights, batch, { random: new SeededRandom(1), batchNormTraining: true });
    const stats = Object.values(l.bnUpdates ?? {}).map((t) => tf.sum(t).dataSync()[0]);
    return round([l.lossObjectness, l.lossRpnBoxReg, l.lossClassifier, l.lossBoxReg].map((t) => t.dataSync()[0]).concat(stats));
  });
  const [det] = await detector.predict(weights, [IMAGE]);
  detector.releaseCache();
  tf.dispose([images, ...Object.values(weights)]);
  return { specs, names: detector.config.classNames, init, step, detections: [round(det.boxes), round(det.scores), Array.from(det.labels)] };
}


type Flip = [path: string, value: unknown];

// every model key, and a value that must change what the model is or does
const FLIPS: Flip[] = [
  ['type', 'RetinaNet'],
  ['backbone.type', 'mobilenetv3_small'],
  ['backbone.outIndices', [12, 16]],
  ['backbone.frozenStages', 5],
  ['backbone.normEval', true],
  ['backbone.bnEps', 1e-3],
  ['backbone.bnMomentum', 0.01],
  ['backbone.widthMult', 0.5],
  ['backbone.family', 'dli14'],
  ['backbone.dropout', 0.1],
  ['backbone.numClasses', 10],
  ['backbone.frozenStage', 3],
  ['neck.type', 'PAFPN'],
  ['neck.inChannels', [1, 2]],
  ['neck.outChannels', 8],
  ['neck.extra', 'on_output'],
  ['neck.numOuts', 4],
  ['neck.reluBeforeExtraConvs', true],
  ['rpn.anchors.type', 'mmdet'],
  ['rpn.anchors.sizes', [[16, 32, 64, 128, 256], [16, 32, 64, 128, 256], [16, 32, 64, 128, 256]]],
  ['rpn.anchors.aspectRatios', [[0.5, 1, 3], [0.5, 1, 3], [0.5, 1, 3]]],
  ['rpn.preNmsTopN.train', 20],
  ['rpn.preNmsTopN.test', 2],
  ['rpn.postNmsTopN.train', 10],
  ['rpn.postNmsTopN.test', 1],
  ['rpn.nmsThresh', 0.3],
  ['rpn.scoreThresh', 0.55],
  ['rpn.minSize', 20],
  ['rpn.fgIouThresh', 0.35],
  ['rpn.bgIouThresh', 0.1],
  ['rpn.batchSizePerImage', 8],
  ['rpn.positiveFraction', 0.01],
  ['rpn.bboxRegWeights', [2, 2, 1, 1]],
  ['roiHead.featmapLevels', [1]],
  ['roiHead.outputSize', 5],
  ['roiHead.samplingRatio', 1],
  ['roiHead.aligned', true],
  ['roiHead.canonicalScale', 16],
  ['roiHead.canonicalLevel', 8],
  ['roiHead.representationSize', 24],
  ['roiHead.numClasses', 5],
  ['roiHead.scoreThresh', 0.3],
  ['roiHead.nmsThresh', 0.1],
  ['roiHead.detectionsPerImg', 2],
  ['roiHead.fgIouThresh', 0.95],
  ['roiHead.bgIouThresh', 0.2],
  ['roiHead.batchSizePerImage', 4],
  ['roiHead.positiveFraction', 0.05],
  ['roiHead.bboxRegWeights', [5, 5, 2, 2]],
  ['transform.minSize', 80],
  ['transform.maxSize', 70],
  ['transform.imageMean', [0.5, 0.5, 0.5]],
  ['transform.imageStd', [0.5, 0.5, 0.5]],
  ['transform.sizeDivisible', 16],
  ['initScheme', 'mmdet'],
  ['classNames', ['a', 'b', 'c']],
];

function leafPaths(o: unknown, prefix = ''): string[] {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return [prefix];
  return Object.entries(o).flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k));
}

function withFlip(model: ModelSection, [path, value]: Flip): ModelSection {
  const out = structuredClone(model) as unknown as Record<string, unknown>;
  const keys = path.split('.');
  let at = out;
  for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
  at[keys.at(-1)!] = value;
  return out as unknown as ModelSection;
}

test('a background threshold above the foreground one is refused before training', async () => {
  const model = withFlip(baseModel(), ['roiHead.bgIouThresh', 0.7]);
  assert.throws(() => validateConfig({ ...structuredClone(loaded.config), model } as never, loaded.file), (err: Error) => {
    assert.ok(err instanceof InputError);
    assert.match(err.message, /model\.roiHead\.bgIouThresh: must be <= fgIouThresh \(0\.5\), got 0\.7$/);
    return true;
  });
});

test('the flips cover every key of the shipped model section', () => {
  const flipped = new Set(FLIPS.map(([p]) => p));
  const missing = leafPaths(shipped).filter((p) => !flipped.has(p) && !p.startsWith('rpn.anchors.'));
  assert.deepEqual(missing, []);
});

test('every model key changes the detector, its training step or its detections, or is refused in one line', async () => {
  const base = await fingerprint(baseModel());
  assert.ok((base.detections as number[][])[0].length > 0, 'the base model detects something, so inference keys can show');
  const silent: string[] = [];
  for (const flip of FLIPS) {
    let changed: string;
    try {
      const got = await fingerprint(withFlip(baseModel(), flip));
      changed = Object.keys(base).filter((k) => JSON.stringify(got[k]) !== JSON.stringify(base[k])).join(', ');
    } catch (err) {
      assert.ok(err instanceof InputError, `${flip[0]}: ${(err as Error).stack}`);
      assert.equal((err as Error).message.split('\n').length, 1, `${flip[0]}: a one-line error, got ${(err as Error).message}`);
      changed = `refused: ${(err as Error).message}`;
    }
    if (!changed) silent.push(flip[0]);
  }
  assert.deepEqual(silent, [], 'keys that changed nothing');
});
