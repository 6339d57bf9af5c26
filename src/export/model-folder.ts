// A model folder as export sees it: the model's parameters (names, kinds, TF.js shapes) from its
// metadata, the weights as views over the shard bytes (read once, never copied: the file being
// written is the only other copy in memory), and what `convert` recorded about the source.
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import type { ModelJson } from '../io/tfjs-weights.js';
import { readConvertedMetadata, type ConvertedMetadata } from '../mapping/convert.js';
import { describeModel } from '../mapping/models.js';
import { readSourceRecord, type SourceRecord } from '../mapping/source-record.js';
import type { ModelOptions } from '../mapping/types.js';
import type { TorchTensor } from '../checkpoint/types.js';
import type { FasterRCNNConfig } from '../models/detection/config.js';
import { fasterRCNNLayout } from '../models/detection/specs.js';
import type { ParamSpec } from '../models/params.js';

export interface FolderWeights {
  dir: string;
  meta: ConvertedMetadata;
  /** The registered model the parameters belong to (a config-built detector: its type). */
  model: string;
  specs: ParamSpec[];
  /** Facts to compare with a layout's (backbone family, BatchNorm eps, class layout, ...). */
  facts: ModelOptions;
  weights: Map<string, { shape: number[]; data: Float32Array }>;
  source?: { record: SourceRecord; extras: Map<string, TorchTensor> };
}

function describe(meta: ConvertedMetadata, dir: string): { specs: ParamSpec[]; facts: ModelOptions } {
  if (meta.config) {
    const config = meta.config as unknown as FasterRCNNConfig;
    const { type, ...backbone } = config.backbone;
    const b = describeModel(type, backbone);
    const facts = { backbone, classLayout: config.roiHead?.classLayout ?? 'torchvision', numClasses: config.roiHead?.numClasses };
    return { specs: fasterRCNNLayout(config, b.specs, b.featureInfo).specs, facts };
  }
  try {
    return { specs: describeModel(meta.model, meta.options).specs, facts: meta.options };
  } catch (err) {
    if (err instanceof InputError) throw new InputError(err.message, dir);
    throw err;
  }
}

export function readModelFolder(dir: string): FolderWeights {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(existsSync(dir) ? 'is not a folder (export reads a folder written by `torchport convert` or `torchport finetune`)' : 'no such folder', dir);
  const jsonPath = join(dir, 'model.json');
  if (!existsSync(jsonPath)) throw new InputError('no model.json here: not a folder written by `torchport convert` or `torchport finetune`', dir);
  let modelJson: ModelJson;
  try {
    modelJson = JSON.parse(readFileSync(jsonPath, 'utf8')) as ModelJson;
  } catch (err) {
    throw new InputError(`not valid JSON: ${(err as Error).message}`, jsonPath);
  }
  const meta = readConvertedMetadata(modelJson, dir);
  const { specs, facts } = describe(meta, dir);
  const groups = Array.isArray(modelJson.weightsManifest) ? modelJson.weightsManifest : [];
  const weights = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const group of groups) {
    const paths = Array.isArray(group?.paths) ? group.paths : [];
    const sizes = paths.map((p) => {
      if (typeof p !== 'string' || /[\\/]/.test(p) || !existsSync(join(dir, p))) throw new InputError(`shard ${JSON.stringify(p)} listed in model.json is missing`, dir);
      return statSync(join(dir, p)).size;
    });
    // One buffer for the group's shards, filled file by file (a weight may span two shards).
    const bytes = Buffer.allocUnsafeSlow(sizes.reduce((a, b) => a + b, 0)); // own, 4-byte aligned memory
    let at = 0;
    paths.forEach((p, i) => {
      const fd = openSync(join(dir, p), 'r');
      try {
        for (let done = 0; done < sizes[i];) {
          const n = readSync(fd, bytes, at + done, sizes[i] - done, null);
          if (n === 0) throw new InputError(`shard '${p}' shrank while being read`, dir);
          done += n;
        }
      } finally {
        closeSync(fd);
      }
      at += sizes[i];
    });
    let offset = 0;
    for (const w of Array.isArray(group?.weights) ? group.weights : []) {
      if (w?.dtype !== 'float32' || !Array.isArray(w.shape) || !w.shape.every((d) => Number.isInteger(d) && d >= 0)) {
        throw new InputError(`weight '${w?.name}' is not a float32 tensor with a valid shape`, jsonPath);
      }
      const n = w.shape.reduce((a, b) => a * b, 1);
      if (offset + 4 * n > bytes.length) throw new InputError(`the shards hold ${bytes.length} bytes, fewer than the weights listed need (truncated at '${w.name}')`, dir);
      weights.set(w.name, { shape: w.shape, data: new Float32Array(bytes.buffer, bytes.byteOffset + offset, n) });
      offset += 4 * n;
    }
    if (offset !== bytes.length) throw new InputError(`the shards hold ${bytes.length - offset} bytes more than the weights listed`, dir);
  }
  for (const s of specs) {
    const w = weights.get(s.name);
    if (!w) throw new InputError(`has no weight '${s.name}' (a parameter of ${meta.model})`, dir);
    if (w.shape.join() !== s.shape.join()) throw new InputError(`weight '${s.name}' has shape [${w.shape.join(', ')}], ${meta.model} needs [${s.shape.join(', ')}]`, dir);
  }
  return { dir, meta, model: meta.model, specs, facts, weights, source: readSourceRecord(dir) };
}
