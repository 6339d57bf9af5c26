// Validation before anything heavy runs: structure and value ranges (schema), every `type` against
// its registry (unknown names list what is registered and the closest one), each registered
// part's own options, and the model's cross-part consistency (neck inChannels vs the backbone's
// outIndices, anchors vs pyramid levels, class count vs the dataset) by building the detector's
// structure, which allocates no tensors.

import { InputError } from '../errors.js';
import type { FasterRCNNConfig } from '../models/faster-rcnn/config.js';
import { RegistryError, type Registry } from '../registry.js';
import { datasets } from '../data/datasets.js';
import { transforms } from '../data/transforms.js';
import type { ConfigDict } from './merge.js';
import { optimizers } from './optimizers.js';
import { commandLineFlag } from './overrides.js';
import { schedulers } from './schedulers.js';
import {
  type Schema,
  type SchemaProblem,
  any,
  arr,
  bool,
  checkSchema,
  int,
  literal,
  num,
  obj,
  optional,
  str,
  tuple,
  union,
} from '../schema.js';
import type { TrainConfig } from './types.js';

const pos = num({ min: 0, exclusiveMin: true });
const prob = num({ min: 0, max: 1 });
const trainTest = obj({ train: int({ min: 1 }), test: int({ min: 1 }) });
const weights4 = tuple(pos, pos, pos, pos);
const typed = obj({ type: str({ nonEmpty: true }) }, { open: true });

const pretrained = obj({
  type: literal('Pretrained'),
  checkpoint: str({ nonEmpty: true }),
  prefix: optional(str()),
  mapping: optional(str({ nonEmpty: true })),
});

const datasetSchema = obj(
  {
    type: str({ nonEmpty: true }),
    annFile: str({ nonEmpty: true }),
    imgDir: str(),
    filterEmpty: optional(bool()),
    pipeline: arr(typed),
  },
  { open: true },
);

export const CONFIG_SCHEMA: Schema = obj({
  customImports: optional(arr(str({ nonEmpty: true }))),
  model: obj({
    type: str({ nonEmpty: true }),
    backbone: obj({ type: str({ nonEmpty: true }), outIndices: arr(int({ min: 0 }), { minItems: 1 }), init_cfg: optional(pretrained) }, { open: true }),
    neck: obj({
      type: str({ nonEmpty: true }),
      inChannels: optional(union(literal('auto'), arr(int({ min: 1 }), { minItems: 1 }))),
      outChannels: int({ min: 1 }),
      numOuts: optional(int({ min: 1 })),
      extra: literal('pool', 'on_input', 'on_lateral', 'on_output', false),
      reluBeforeExtraConvs: optional(bool()),
    }),
    rpn: obj({
      anchors: union(
        obj({ type: literal('torchvision'), sizes: arr(arr(pos, { minItems: 1 }), { minItems: 1 }), aspectRatios: arr(arr(pos, { minItems: 1 }), { minItems: 1 }) }),
        obj({ type: literal('mmdet'), strides: arr(int({ min: 1 }), { minItems: 1 }), scales: arr(pos, { minItems: 1 }), ratios: arr(pos, { minItems: 1 }), centerOffset: optional(num({ min: 0, max: 1 })) }),
      ),
      preNmsTopN: trainTest,
      postNmsTopN: trainTest,
      nmsThresh: prob,
      scoreThresh: prob,
      minSize: num({ min: 0 }),
      fgIouThresh: prob,
      bgIouThresh: prob,
      batchSizePerImage: int({ min: 1 }),
      positiveFraction: prob,
      bboxRegWeights: weights4,
    }),
    roiHead: obj({
      featmapLevels: arr(int({ min: 0 }), { minItems: 1 }),
      outputSize: int({ min: 1 }),
      samplingRatio: int(),
      aligned: bool(),
      canonicalScale: pos,
      canonicalLevel: int({ min: 0 }),
      representationSize: int({ min: 1 }),
      numClasses: union(literal('auto'), int({ min: 2 })),
      scoreThresh: prob,
      nmsThresh: prob,
      detectionsPerImg: int({ min: 1 }),
      fgIouThresh: prob,
      bgIouThresh: prob,
      batchSizePerImage: int({ min: 1 }),
      positiveFraction: prob,
      bboxRegWeights: weights4,
    }),
    transform: obj({
      minSize: int({ min: 1 }),
      maxSize: int({ min: 1 }),
      imageMean: tuple(num(), num(), num()),
      imageStd: tuple(pos, pos, pos),
      sizeDivisible: int({ min: 1 }),
    }),
    classNames: optional(arr(str())),
    initScheme: optional(literal('torchvision', 'mmdet')),
  }),
  data: obj({
    root: union(str({ nonEmpty: true }), literal(null)),
    train: datasetSchema,
    val: datasetSchema,
    batchSize: int({ min: 1 }),
    microBatch: optional(union(int({ min: 1 }), literal(null))),
    allowInexactMicroBatch: optional(bool()),
    valBatchSize: int({ min: 1 }),
    shuffle: bool(),
    prefetch: int({ min: 0, max: 64 }),
    skipBad: bool(),
  }),
  optimizer: typed,
  clipGrad: union(obj({ maxNorm: pos }), literal(null)),
  paramScheduler: arr(typed),
  trainCfg: obj({ maxEpochs: union(int({ min: 1 }), literal(null)), maxIters: optional(union(int({ min: 1 }), literal(null))), valInterval: int({ min: 1 }) }),
  workDir: str({ nonEmpty: true }),
  seed: int({ min: 0 }),
  backend: literal('auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'),
  logInterval: int({ min: 1 }),
  checkpointInterval: int({ min: 1 }),
  load_from: union(str({ nonEmpty: true }), literal(null)),
  resume: bool(),
  // Free-form notes a config may carry (ignored).
  description: optional(any()),
});

/** One line per problem; a value the command line set names its flag, and the file only when some problem is in it. */
function problemsError(problems: SchemaProblem[], config: ConfigDict, file?: string): InputError {
  const flags = problems.map((p) => commandLineFlag(config, p.path));
  const lines = problems.map((p, i) => `${flags[i] ? `${flags[i]} ` : ''}${p.path}: ${p.message}`);
  const inFile = flags.some((f) => f === undefined);
  return new InputError(lines.length === 1 ? lines[0] : `${lines.length} problems:\n  ${lines.join('\n  ')}`, inFile ? file : undefined);
}

/** Looks a `type` up; unknown names become a problem at `path` with the registry's own hint. */
function lookup<T>(registry: Registry<T>, name: string, path: string, problems: SchemaProblem[]): T | undefined {
  try {
    return registry.get(name);
  } catch (err) {
    if (!(err instanceof RegistryError)) throw err;
    problems.push({ path: `${path}.type`, message: err.message });
    return undefined;
  }
}

/** Checks a `{type, ...options}` entry against its registry entry's option schema. */
function checkTyped<T extends { schema: Schema }>(registry: Registry<T>, value: Record<string, unknown>, path: string, problems: SchemaProblem[]): void {
  const entry = lookup(registry, value.type as string, path, problems);
  if (!entry) return;
  const { type: _type, ...options } = value;
  problems.push(...checkSchema(options, entry.schema, path));
}

/**
 * Validates a loaded config: returns it typed, or throws one InputError listing every problem
 * (key path, what is allowed). `file` names the config in the message.
 */
export function validateConfig(config: ConfigDict, file?: string): TrainConfig {
  const problems = checkSchema(config, CONFIG_SCHEMA);
  if (problems.length > 0) throw problemsError(problems, config, file);
  const cfg = config as unknown as TrainConfig;
  checkTyped(optimizers, cfg.optimizer, 'optimizer', problems);
  cfg.paramScheduler.forEach((s, i) => checkTyped(schedulers, s, `paramScheduler.${i}`, problems));
  for (const split of ['train', 'val'] as const) {
    const ds = cfg.data[split];
    lookup(datasets, ds.type, `data.${split}`, problems);
    ds.pipeline.forEach((t, i) => checkTyped(transforms, t, `data.${split}.pipeline.${i}`, problems));
  }
  for (const part of ['rpn', 'roiHead'] as const) {
    const { fgIouThresh, bgIouThresh } = cfg.model[part];
    if (bgIouThresh > fgIouThresh) problems.push({ path: `model.${part}.bgIouThresh`, message: `must be <= fgIouThresh (${fgIouThresh}), got ${bgIouThresh}` });
  }
  // One loop: epoch-based (maxEpochs) or iteration-based (maxIters), never both, since valInterval
  // and checkpointInterval count in the loop's unit.
  const { maxEpochs, maxIters } = cfg.trainCfg;
  if (maxEpochs === null && (maxIters === null || maxIters === undefined)) problems.push({ path: 'trainCfg', message: 'set maxEpochs or maxIters (both are null)' });
  if (maxEpochs !== null && maxIters !== null && maxIters !== undefined) {
    problems.push({
      path: 'trainCfg.maxIters',
      message: `${maxIters}, but trainCfg.maxEpochs is ${maxEpochs}: set one of them to null (\`finetune --epochs N\` / \`--max-iters N\` do that)`,
    });
  }
  const { microBatch, batchSize } = cfg.data;
  if (typeof microBatch === 'number' && microBatch > batchSize) {
    problems.push({ path: 'data.microBatch', message: `must be <= data.batchSize (${batchSize}), got ${microBatch}` });
  }
  if (cfg.model.transform.maxSize < cfg.model.transform.minSize) {
    problems.push({ path: 'model.transform.maxSize', message: `must be >= minSize (${cfg.model.transform.minSize}), got ${cfg.model.transform.maxSize}` });
  }
  if (problems.length > 0) throw problemsError(problems, config, file);
  return cfg;
}

/** The detector's own config, with the class count resolved (`'auto'` → `numClasses`). */
export function detectorConfig(cfg: TrainConfig, numClasses?: number, classNames?: string[]): FasterRCNNConfig {
  const { type: _type, backbone, neck, roiHead, classNames: names, ...rest } = cfg.model;
  const { init_cfg: _init, ...backboneOptions } = backbone;
  const classes = roiHead.numClasses === 'auto' ? numClasses : roiHead.numClasses;
  if (classes === undefined) throw new InputError("model.roiHead.numClasses is 'auto' but no dataset was given to count classes");
  return {
    ...rest,
    backbone: backboneOptions,
    neck: { ...neck, inChannels: neck.inChannels ?? 'auto' },
    roiHead: { ...roiHead, numClasses: classes },
    ...((names ?? classNames) ? { classNames: names ?? classNames } : {}),
  };
}
