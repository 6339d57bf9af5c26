// `torchport finetune` as a library call: config → backend → data → detector → starting weights
// (init_cfg / load_from through the converter) → preflight → SGD + schedule → Trainer, evaluating
// with the COCO evaluator (metrics.json in the work dir).
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { formatPreflight, preflight } from '../backend/preflight.js';
import { selectBackend, type BackendRequest } from '../backend/select.js';
import { webGpuDeviceLoss } from '../backend/webgpu.js';
import type { ReadOptions } from '../checkpoint/read.js';
import { loadConfig } from '../config/load.js';
import { checkModel } from '../config/model.js';
import { optimizers } from '../config/optimizers.js';
import { sourceOf } from '../config/overrides.js';
import { buildLrSchedule } from '../config/schedulers.js';
import { validateConfig } from '../config/validate.js';
import { resolveWeightSources } from '../config/weights.js';
import { buildLoaders } from '../data/datasets.js';
import type { DataBatch } from '../data/loader.js';
import { InputError } from '../errors.js';
import { evaluateDataset } from '../eval/evaluate.js';
import { writeMetrics } from '../eval/metrics.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { FasterRCNN } from '../models/faster-rcnn/faster-rcnn.js';
import { detectorFolderMetadata } from '../models/detectors/load.js';
import type { DetectionBatch } from './faster-rcnn/faster-rcnn-train.js';
import { detectorTrainable, detectorVariables, toDetectionBatch } from './faster-rcnn/trainable.js';
import { loadInitialWeights } from './init-weights.js';
import { JsonLog } from './log.js';
import { defaultProgress, type Progress } from './progress.js';
import { Sgd } from './sgd.js';
import { planMemory, whatFits, type MemorySetting } from './memory-preflight.js';
import { outOfMemoryError } from './out-of-memory.js';
import { resumableState } from './checkpoint.js';
import { Trainer, type TrainResult } from './trainer.js';
import type { BatchSource } from './types.js';

export interface FinetuneOptions {
  config: string;
  /** `--data DIR`: dataset root in the COCO layout. */
  data?: string;
  workDir?: string;
  cfgOptions?: string[];
  resume?: boolean;
  /** Overrides the config's `backend`. */
  backend?: BackendRequest;
  threads?: number;
  /** Informational lines (backend, weights, preflight); default stderr. */
  info?: (line: string) => void;
  progress?: Progress;
  handleSigint?: boolean;
  /** Evaluate the starting weights before training (the demo's "before" figure). */
  evaluateFirst?: boolean;
  /** How init_cfg / load_from .pth files are read (`--strict`, `--no-verify`). */
  read?: ReadOptions;
  /** The top-level key of init_cfg / load_from .pth files that holds the weights (`--key`). */
  key?: string;
}

export interface FinetuneResult extends TrainResult {
  workDir: string;
  /** The detector and its trained weights (variables by canonical name), for drawing or export. */
  detector: FasterRCNN;
  variables: Map<string, tf.Variable>;
  /** Foreground class names in label order (label 1 first). */
  classNames: string[];
  /** With evaluateFirst: the metrics of the starting weights. */
  initialMetrics?: Record<string, number>;
}

/** A tiny image with one box: enough for a forward+backward through every kernel training uses. */
function preflightBatch(): DetectionBatch {
  return {
    images: tf.randomUniform([1, 64, 64, 3], -1, 1, 'float32', 1) as tf.Tensor4D,
    imageSizes: [[64, 64]],
    targets: [{ boxes: new Float32Array([8, 8, 40, 48]), labels: new Int32Array([1]) }],
  };
}

function trainSource(loader: { batchesPerEpoch: number; batches(epoch: number, start: number): AsyncIterable<DataBatch> }): BatchSource<DetectionBatch> {
  return {
    batchesPerEpoch: loader.batchesPerEpoch,
    async *batches(epoch, start) {
      for await (const b of loader.batches(epoch, start)) yield toDetectionBatch(b);
    },
    dispose: (b) => b.images.dispose(),
  };
}

export async function finetune(o: FinetuneOptions): Promise<FinetuneResult> {
  const info = o.info ?? ((line: string) => process.stderr.write(`${line}\n`));
  const loaded = await loadConfig(o.config, { cfgOptions: o.cfgOptions, data: o.data, workDir: o.workDir });
  const cfg = validateConfig(loaded.config, loaded.file);
  const resume = o.resume ?? cfg.resume;
  const workDir = cfg.workDir;
  if (resume) resumableState(join(workDir, 'latest')); // before anything is built
  const log = new JsonLog(join(workDir, 'train.log.jsonl'));

  const loaders = await buildLoaders(cfg.data, cfg.model.transform, cfg.seed);
  const labels = loaders.train.dataset.labels;
  const { detector } = await checkModel(cfg, labels, sourceOf(loaded.config, 'model', loaded.file));
  const optimizerSpec = optimizers.get(cfg.optimizer.type).resolve(cfg.optimizer as Record<string, unknown>);
  const sources = resolveWeightSources(cfg, loaded.file, { read: o.read, key: o.key });

  const backend = await selectBackend(o.backend ?? cfg.backend, { threads: o.threads, training: true });
  info(`backend: ${backend.name} (${backend.detail})`);
  info(`data: ${loaders.train.dataset.length} train / ${loaders.val.dataset.length} val images, ${labels.numClasses - 1} classes (${labels.names.join(', ')}), ${loaders.train.batchesPerEpoch} batches of ${cfg.data.batchSize} per epoch`);

  const init = loadInitialWeights(detector, sources, cfg.seed);
  for (const line of init.log) info(line);
  const variables = detectorVariables(detector, init.weights);
  tf.dispose(Object.values(init.weights));
  const trainable = [...variables.values()].filter((v) => v.trainable);
  const count = (vs: tf.Variable[]) => vs.reduce((n, v) => n + v.size, 0);
  info(`trainable: ${trainable.length} of ${variables.size} tensors, ${count(trainable).toLocaleString('en-US')} of ${count([...variables.values()]).toLocaleString('en-US')} values`);

  const memory: MemorySetting = { detector, backend: backend.name, ...cfg.data, transform: cfg.model.transform, batchStatistics: false, file: loaded.file };
  const advice = () => `${join(workDir, 'latest')} is left as it was; ${whatFits(memory)}`;
  const probe = preflightBatch();
  const probeModel = detectorTrainable(detector, variables, { seed: cfg.seed });
  await probeModel.prepare?.(probe);
  const probeStep = () => {
    const out = probeModel.computeLoss(probe);
    memory.batchStatistics ||= Object.keys(out.buffers ?? {}).length > 0; // running statistics updated: BatchNorm in train mode
    return out.total;
  };
  const report = await preflight(probeStep, trainable).catch((err: unknown) => {
    throw outOfMemoryError(err, 'in the preflight', advice(), loaded.file);
  });
  probe.images.dispose();
  if (!report.ok) throw new InputError(formatPreflight(report), loaded.file);
  info(formatPreflight(report));
  const { microBatch, line: memoryLine } = planMemory(memory);
  info(memoryLine);

  writeFileAtomic(join(workDir, 'config.json'), `${JSON.stringify(loaded.config, null, 1)}\n`);
  log.write({ mode: 'event', event: 'start', config: loaded.file, backend: backend.name, backendDetail: backend.detail, resume, weights: init.log });

  const optimizer = new Sgd(trainable, optimizerSpec);
  const itersPerEpoch = loaders.train.batchesPerEpoch;
  const maxIters = cfg.trainCfg.maxIters ?? undefined;
  // an iteration-based run counts the epochs its iterations reach (progress, byEpoch schedulers)
  const maxEpochs = cfg.trainCfg.maxEpochs ?? Math.ceil(maxIters! / itersPerEpoch);
  const lrAt = buildLrSchedule(cfg.paramScheduler, optimizerSpec.lr, { itersPerEpoch, maxEpochs, maxIters });
  const weightsView = Object.fromEntries(variables);
  const valSet = loaders.val.dataset;
  const evaluate = async (epoch: number) => {
    const started = Date.now();
    const evaluation = await evaluateDataset(valSet, (images) => detector.predict(weightsView, images), { batchSize: cfg.data.valBatchSize });
    writeMetrics(join(workDir, 'metrics.json'), evaluation.metrics, { epoch: epoch + 1, images: valSet.length, seconds: (Date.now() - started) / 1000 });
    return Object.fromEntries(Object.entries(evaluation.metrics).filter((e): e is [string, number] => typeof e[1] === 'number'));
  };
  let initialMetrics: Record<string, number> | undefined;
  if (o.evaluateFirst) {
    initialMetrics = await evaluate(-1);
    info(`before training: bbox_mAP ${initialMetrics.bbox_mAP?.toFixed(4)}, bbox_mAP_50 ${initialMetrics.bbox_mAP_50?.toFixed(4)}`);
    log.write({ mode: 'val', epoch: 0, iteration: 0, ...initialMetrics });
  }
  const trainer = new Trainer({
    model: detectorTrainable(detector, variables, { seed: cfg.seed }),
    data: trainSource(loaders.train),
    optimizer,
    lrAt,
    maxEpochs,
    maxIters,
    workDir,
    checkpointMeta: {
      format: 'torchport-checkpoint',
      generatedBy: 'torchport finetune',
      convertedBy: 'torchport',
      // a model folder like `convert`'s: detect, eval, forward and export load it without the config
      userDefinedMetadata: { config: loaded.file, torchport: detectorFolderMetadata(detector.config, cfg.model.type, { by: 'torchport finetune', config: loaded.file }) },
    },
    gradClip: cfg.clipGrad ?? undefined,
    microBatch,
    evaluate,
    evalInterval: cfg.trainCfg.valInterval,
    checkpointInterval: cfg.checkpointInterval,
    bestMetric: 'bbox_mAP',
    progress: o.progress ?? defaultProgress(process.stderr, cfg.logInterval),
    resume,
    handleSigint: o.handleSigint,
    deviceLoss: backend.name === 'webgpu' ? { lost: webGpuDeviceLoss } : undefined,
  });
  try {
    const result = await trainer.fit();
    return { ...result, workDir, detector, variables, classNames: labels.names, initialMetrics };
  } catch (err) {
    throw outOfMemoryError(err, 'in a training step', advice(), loaded.file);
  } finally {
    optimizer.dispose();
  }
}
