// TF.js's own weights format, as tfjs-converter writes it: `model.json` whose `weightsManifest`
// lists weight groups; each group's tensors are concatenated in manifest order and split into
// `group<g>-shard<i>of<n>.bin` files of at most 4 MB (offsets are implicit). Float32 only here.
import { closeSync, existsSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';

export interface WeightEntry {
  name: string;
  shape: number[];
  dtype: 'float32';
}

export interface WeightsManifestGroup {
  paths: string[];
  weights: WeightEntry[];
}

/** The parts of TF.js's ModelJSON that torchport writes and reads. */
export interface ModelJson {
  format: string;
  generatedBy: string;
  convertedBy: string;
  modelTopology: null;
  weightsManifest: WeightsManifestGroup[];
  userDefinedMetadata?: Record<string, unknown>;
}

/** A float32 tensor in TF.js layout, by name. */
export interface WeightArray {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** tfjs-converter's default shard size. */
export const SHARD_BYTES = 4 * 1024 * 1024;

const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Shard files of `total` bytes in `dir`, filled in order and cut every `shardBytes`. */
class ShardFiles {
  readonly paths: string[];
  private shard = 0;
  private fd: number;
  private room: number;

  constructor(private readonly dir: string, total: number, private readonly shardBytes: number) {
    const count = Math.max(1, Math.ceil(total / shardBytes));
    this.paths = Array.from({ length: count }, (_, i) => `group1-shard${i + 1}of${count}.bin`);
    this.fd = openSync(join(dir, this.paths[0]), 'w');
    this.room = shardBytes;
  }

  /** Appends one weight's values (no staging copy). */
  append(name: string, shape: number[], data: Float32Array): void {
    if (data.length !== numel(shape)) throw new Error(`internal: '${name}' has ${data.length} values for shape [${shape.join(', ')}]`);
    let bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    while (bytes.length > 0) {
      if (this.room === 0) {
        closeSync(this.fd);
        this.fd = openSync(join(this.dir, this.paths[++this.shard]), 'w');
        this.room = this.shardBytes;
      }
      const n = Math.min(bytes.length, this.room);
      writeSync(this.fd, bytes, 0, n);
      this.room -= n;
      bytes = bytes.subarray(n);
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  /** Writes model.json listing the weights (in the order appended) over these shards. */
  modelJson(weights: Array<{ name: string; shape: number[] }>, meta: Omit<ModelJson, 'weightsManifest' | 'modelTopology'>): ModelJson {
    const json: ModelJson = {
      ...meta,
      modelTopology: null,
      weightsManifest: [{ paths: this.paths, weights: weights.map((w) => ({ name: w.name, shape: w.shape, dtype: 'float32' })) }],
    };
    writeFileSync(join(this.dir, 'model.json'), `${JSON.stringify(json, null, 1)}\n`);
    return json;
  }
}

/**
 * Writes `model.json` and its shards into `dir` (an existing, empty folder; use writeDirAtomic
 * around it). Returns the model JSON written.
 */
export function writeTfjsWeights(dir: string, weights: WeightArray[], meta: Omit<ModelJson, 'weightsManifest' | 'modelTopology'>, shardBytes = SHARD_BYTES): ModelJson {
  const files = new ShardFiles(dir, weights.reduce((a, w) => a + w.data.byteLength, 0), shardBytes);
  try {
    for (const w of weights) files.append(w.name, w.shape, w.data);
  } finally {
    files.close();
  }
  return files.modelJson(weights, meta);
}

/** A weight whose values are made when the writer reaches it. */
export interface WeightSource {
  name: string;
  shape: number[];
  values(): Float32Array | Promise<Float32Array>;
}

/**
 * writeTfjsWeights asking each weight for its values only when its turn comes, so memory holds
 * one weight at a time (a training checkpoint reads its tensors back from the backend this way).
 */
export async function writeTfjsWeightSources(dir: string, weights: WeightSource[], meta: Omit<ModelJson, 'weightsManifest' | 'modelTopology'>, shardBytes = SHARD_BYTES): Promise<ModelJson> {
  const files = new ShardFiles(dir, 4 * weights.reduce((a, w) => a + numel(w.shape), 0), shardBytes);
  try {
    for (const w of weights) files.append(w.name, w.shape, await w.values());
  } finally {
    files.close();
  }
  return files.modelJson(weights, meta);
}

function fail(message: string, file: string): never {
  throw new InputError(message, file);
}

/** Reads `dir/model.json` and every weight it lists; bad or missing pieces are InputErrors. */
export function readTfjsWeights(dir: string): { modelJson: ModelJson; weights: WeightArray[] } {
  const jsonPath = join(dir, 'model.json');
  if (!existsSync(jsonPath)) fail('no model.json here (is this a folder written by `torchport convert`?)', dir);
  let modelJson: ModelJson;
  try {
    modelJson = JSON.parse(readFileSync(jsonPath, 'utf8')) as ModelJson;
  } catch (err) {
    return fail(`not valid JSON: ${(err as Error).message}`, jsonPath);
  }
  if (!Array.isArray(modelJson?.weightsManifest)) fail('has no weightsManifest list', jsonPath);
  const weights: WeightArray[] = [];
  for (const [g, group] of modelJson.weightsManifest.entries()) {
    if (!Array.isArray(group?.paths) || !Array.isArray(group?.weights)) fail(`weightsManifest[${g}] needs 'paths' and 'weights' lists`, jsonPath);
    const parts = group.paths.map((p) => {
      if (typeof p !== 'string' || p.includes('/') || p.includes('\\')) fail(`weightsManifest[${g}] has a bad shard path ${JSON.stringify(p)}`, jsonPath);
      const file = join(dir, p);
      if (!existsSync(file) || !statSync(file).isFile()) fail(`shard '${p}' listed in model.json is missing`, dir);
      return readFileSync(file);
    });
    const bytes = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    let offset = 0;
    for (const w of group.weights) {
      if (w?.dtype !== 'float32') fail(`weight '${w?.name}' has dtype ${w?.dtype}; torchport reads float32 weights only`, jsonPath);
      if (!Array.isArray(w.shape) || !w.shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`weight '${w.name}' has a bad shape`, jsonPath);
      const n = numel(w.shape) * 4;
      if (offset + n > bytes.length) fail(`the shards hold ${bytes.length} bytes, fewer than the weights listed need (truncated at '${w.name}')`, dir);
      // Copy into an aligned buffer of its own.
      const data = new Float32Array(n / 4);
      new Uint8Array(data.buffer).set(bytes.subarray(offset, offset + n));
      weights.push({ name: w.name, shape: w.shape, data });
      offset += n;
    }
    if (offset !== bytes.length) fail(`the shards hold ${bytes.length - offset} bytes more than the weights listed`, dir);
  }
  return { modelJson, weights };
}
