// Datasets by config `type`, and the loaders a config describes.

import { join } from 'node:path';
import { InputError } from '../errors.js';
import type { TransformConfig } from '../models/faster-rcnn/config.js';
import { Registry } from '../registry.js';
import { CocoDataset } from './dataset.js';
import { DetectionLoader } from './loader.js';
import { buildPipeline } from './transforms.js';

/** One split in a config's `data` section. */
export interface DatasetSection {
  type: string;
  /** Relative to data.root. */
  annFile: string;
  /** Relative to data.root. */
  imgDir: string;
  filterEmpty?: boolean;
  pipeline: Record<string, unknown>[];
}

export interface DataSection {
  /** Dataset root (absolute after loading); `--data DIR` sets it. */
  root: string | null;
  train: DatasetSection;
  val: DatasetSection;
  batchSize: number;
  /** Images per forward pass, gradients summed over the batch; null or absent: chosen from the memory estimate. */
  microBatch?: number | null;
  /** Micro-batches also where BatchNorm in train mode makes their gradients differ from the whole batch's. */
  allowInexactMicroBatch?: boolean;
  valBatchSize: number;
  shuffle: boolean;
  prefetch: number;
  skipBad: boolean;
}

export interface DatasetEntry {
  load(spec: DatasetSection, ctx: { root: string; skipBad: boolean; split: 'train' | 'val' }): Promise<CocoDataset>;
}

export const datasets = new Registry<DatasetEntry>('dataset');

datasets.register('CocoDataset', {
  load: (spec, ctx) =>
    CocoDataset.load({
      annFile: join(ctx.root, spec.annFile),
      imgDir: join(ctx.root, spec.imgDir),
      filterEmpty: spec.filterEmpty ?? ctx.split === 'train',
      skipBad: ctx.skipBad,
    }),
});

export interface Loaders {
  train: DetectionLoader;
  val: DetectionLoader;
}

/**
 * Loads and checks both splits (the bad-data report stops here unless skipBad) and builds their
 * loaders. The validation loader never shuffles.
 */
export async function buildLoaders(data: DataSection, model: TransformConfig, seed: number): Promise<Loaders> {
  if (data.root === null) throw new InputError('data.root is not set: pass --data DIR (a COCO layout folder) or set data.root in the config');
  const root = data.root;
  const load = (split: 'train' | 'val'): Promise<CocoDataset> =>
    datasets.get(data[split].type).load(data[split], { root, skipBad: data.skipBad, split });
  const [train, val] = [await load('train'), await load('val')];
  const trainIds = train.labels.categoryIds.join(',');
  if (trainIds !== val.labels.categoryIds.join(',')) {
    throw new InputError(`train and val annotation files have different categories ([${trainIds}] vs [${val.labels.categoryIds.join(',')}])`, val.annFile);
  }
  return {
    train: new DetectionLoader(train, buildPipeline(data.train.pipeline, model), {
      batchSize: data.batchSize,
      shuffle: data.shuffle,
      seed,
      prefetch: data.prefetch,
    }),
    val: new DetectionLoader(val, buildPipeline(data.val.pipeline, model), {
      batchSize: data.valBatchSize,
      shuffle: false,
      seed,
      prefetch: data.prefetch,
    }),
  };
}
