// A model folder as export sees it: the model's parameters (names, kinds, TF.js shapes) from its
// metadata, the weights as byte ranges of the shards read only when the writer reaches them (so
// memory holds one tensor at a time, not the whole model), and what `convert` recorded about the
// source.
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import type { ModelJson } from '../io/tfjs-weights.js';
import { readConvertedMetadata, type ConvertedMetadata } from '../models/convert.js';
import { describeModel } from '../models/descriptions.js';
import { readSourceRecord, type SourceRecord } from '../mapping/source-record.js';
import type { ModelOptions } from '../mapping/types.js';
import type { TorchTensor } from '../checkpoint/types.js';
import type { FasterRCNNConfig } from '../models/faster-rcnn/config.js';
import { fasterRCNNLayout } from '../models/faster-rcnn/specs.js';
import type { ParamSpec } from '../mapping/params.js';

/** One float32 weight of the folder: its TF.js shape, its values read from the shards on demand. */
export interface FolderWeight {
  shape: number[];
  read(): Float32Array;
  /** Values [first, first + into.length) of the weight (row-major), read into `into`. */
  readInto(into: Float32Array, first: number): void;
}

export interface FolderWeights {
  dir: string;
  meta: ConvertedMetadata;
  /** The registered model the parameters belong to (a config-built detector: its type). */
  model: string;
  specs: ParamSpec[];
  /** Facts to compare with a layout's (backbone family, BatchNorm eps, class layout, ...). */
  facts: ModelOptions;
  weights: Map<string, FolderWeight>;
  /**
   * Runs `fn` with the shards held open, so that its reads cost no open/close each (an export reads
   * a few hundred pieces); outside it every read opens and closes its shard.
   */
  withOpenShards<T>(fn: () => T): T;
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

/** Opens shards for reading and closes them: each time, or kept open while `held` is set. */
class ShardFiles {
  private held: Map<string, number> | undefined;

  use<T>(path: string, fn: (fd: number) => T): T {
    const kept = this.held?.get(path);
    if (kept !== undefined) return fn(kept);
    const fd = openSync(path, 'r');
    if (this.held) {
      this.held.set(path, fd);
      return fn(fd);
    }
    try {
      return fn(fd);
    } finally {
      closeSync(fd);
    }
  }

  hold<T>(fn: () => T): T {
    if (this.held) return fn();
    this.held = new Map();
    try {
      return fn();
    } finally {
      for (const fd of this.held.values()) closeSync(fd);
      this.held = undefined;
    }
  }
}

/** Bytes [begin, begin + bytes.length) of shards laid end to end, read into `bytes`. */
function readRange(files: ShardFiles, shards: Array<{ path: string; start: number; size: number }>, begin: number, bytes: Uint8Array, dir: string): void {
  const length = bytes.length;
  let done = 0;
  for (const shard of shards) {
    if (done === length) break;
    const from = begin + done - shard.start;
    if (from < 0 || from >= shard.size) continue;
    const want = Math.min(length - done, shard.size - from);
    files.use(shard.path, (fd) => {
      for (let got = 0; got < want;) {
        const n = readSync(fd, bytes, done + got, want - got, from + got);
        if (n === 0) throw new InputError(`shard '${shard.path}' shrank while being read`, dir);
        got += n;
      }
    });
    done += want;
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
  const weights = new Map<string, FolderWeight>();
  const files = new ShardFiles();
  for (const group of groups) {
    const paths = Array.isArray(group?.paths) ? group.paths : [];
    // The group's shards are one byte sequence (a weight may span two shards).
    let total = 0;
    const shards = paths.map((p) => {
      if (typeof p !== 'string' || /[\\/]/.test(p) || !existsSync(join(dir, p))) throw new InputError(`shard ${JSON.stringify(p)} listed in model.json is missing`, dir);
      const shard = { path: join(dir, p), start: total, size: statSync(join(dir, p)).size };
      total += shard.size;
      return shard;
    });
    let offset = 0;
    for (const w of Array.isArray(group?.weights) ? group.weights : []) {
      if (w?.dtype !== 'float32' || !Array.isArray(w.shape) || !w.shape.every((d) => Number.isInteger(d) && d >= 0)) {
        throw new InputError(`weight '${w?.name}' is not a float32 tensor with a valid shape`, jsonPath);
      }
      const n = w.shape.reduce((a, b) => a * b, 1);
      if (offset + 4 * n > total) throw new InputError(`the shards hold ${total} bytes, fewer than the weights listed need (truncated at '${w.name}')`, dir);
      const begin = offset;
      const readInto = (into: Float32Array, first: number): void => {
        if (first < 0 || first + into.length > n) throw new Error(`internal: values ${first}..${first + into.length} of '${w.name}', which has ${n}`);
        readRange(files, shards, begin + 4 * first, new Uint8Array(into.buffer, into.byteOffset, into.byteLength), dir);
      };
      const read = (): Float32Array => {
        // Own aligned memory, not zero-filled first (every byte is read into it).
        const bytes = Buffer.allocUnsafeSlow(4 * n);
        const values = new Float32Array(bytes.buffer, bytes.byteOffset, n);
        readInto(values, 0);
        return values;
      };
      weights.set(w.name, { shape: w.shape, read, readInto });
      offset += 4 * n;
    }
    if (offset !== total) throw new InputError(`the shards hold ${total - offset} bytes more than the weights listed`, dir);
  }
  for (const s of specs) {
    const w = weights.get(s.name);
    if (!w) throw new InputError(`has no weight '${s.name}' (a parameter of ${meta.model})`, dir);
    if (w.shape.join() !== s.shape.join()) throw new InputError(`weight '${s.name}' has shape [${w.shape.join(', ')}], ${meta.model} needs [${s.shape.join(', ')}]`, dir);
  }
  return { dir, meta, model: meta.model, specs, facts, weights, withOpenShards: (fn) => files.hold(fn), source: readSourceRecord(dir) };
}
