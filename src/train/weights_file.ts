// Reads and writes named tensors in the TF.js weights format: a JSON manifest
// (`weightsManifest: [{paths, weights: [{name, shape, dtype}]}]`, what tf.io.loadWeights reads)
// beside one binary shard.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

interface Manifest {
  format: string;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/** Writes `<stem>.json` and `<stem>.bin` into `dir` (which the caller writes atomically). */
export async function writeWeights(dir: string, stem: string, tensors: Map<string, tf.Tensor>, write: (path: string, data: string | Uint8Array) => void): Promise<void> {
  const named = [...tensors].map(([name, tensor]) => ({ name, tensor }));
  const { data, specs } = await tf.io.encodeWeights(named);
  const manifest: Manifest = { format: 'torchport-weights', weightsManifest: [{ paths: [`${stem}.bin`], weights: specs }] };
  write(join(dir, `${stem}.bin`), new Uint8Array(data));
  write(join(dir, `${stem}.json`), `${JSON.stringify(manifest, null, 1)}\n`);
}

/** Reads what writeWeights wrote; the caller disposes the tensors. */
export function readWeights(dir: string, stem: string): Map<string, tf.Tensor> {
  const manifestPath = join(dir, `${stem}.json`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  const out = new Map<string, tf.Tensor>();
  for (const group of manifest.weightsManifest) {
    const chunks = group.paths.map((p) => readFileSync(join(dir, p)));
    const bytes = Buffer.concat(chunks);
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    for (const [name, t] of Object.entries(tf.io.decodeWeights(buffer, group.weights))) out.set(name, t);
  }
  return out;
}
