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

/**
 * Writes `model.json` and its shards into `dir` (an existing, empty folder; use writeDirAtomic
 * around it). Returns the model JSON written.
 */
export function writeTfjsWeights(dir: string, weights: WeightArray[], meta: Omit<ModelJson, 'weightsManifest' | 'modelTopology'>, shardBytes = SHARD_BYTES): ModelJson {
  const total = weights.reduce((a, w) => a + w.data.byteLength, 0);
  const shardCount = Math.max(1, Math.ceil(total / shardBytes));
  const paths = Array.from({ length: shardCount }, (_, i) => `group1-shard${i + 1}of${shardCount}.bin`);
  // Stream the tensors' bytes into the shard files (no staging copy), cutting at shardBytes.
  let shard = 0;
  let fd = openSync(join(dir, paths[0]), 'w');
  let room = shardBytes;
  try {
    for (const w of weights) {
      if (w.data.length !== numel(w.shape)) throw new Error(`internal: '${w.name}' has ${w.data.length} values for shape [${w.shape.join(', ')}]`);
      let bytes = new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength);
      while (bytes.length > 0) {
        if (room === 0) {
          closeSync(fd);
          fd = openSync(join(dir, paths[++shard]), 'w');
          room = shardBytes;
        }
        const n = Math.min(bytes.length, room);
        writeSync(fd, bytes, 0, n);
        room -= n;
        bytes = bytes.subarray(n);
      }
    }
  } finally {
    closeSync(fd);
  }
  const json: ModelJson = {
    ...meta,
    modelTopology: null,
    weightsManifest: [{ paths, weights: weights.map((w) => ({ name: w.name, shape: w.shape, dtype: 'float32' })) }],
  };
  writeFileSync(join(dir, 'model.json'), `${JSON.stringify(json, null, 1)}\n`);
  return json;
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
