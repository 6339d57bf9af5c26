// Shared by the backend tests: seeded random data, running one thing on a named backend, and the
// max-abs-normalised relative error used for every kernel comparison.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { selectBackend } from '../../src/backend/select.js';
import { ensureGradients } from '../../src/backend/gradients.js';

await ensureGradients();

export { createRng as rng } from '../../src/data/rng.js';

export function randomValues(rand: () => number, size: number): Float32Array {
  const v = new Float32Array(size);
  for (let i = 0; i < size; i++) v[i] = rand() * 2 - 1;
  return v;
}

export function pick<T>(rand: () => number, options: readonly T[]): T {
  return options[Math.floor(rand() * options.length)];
}

/** Runs fn with `name` active and returns its results read back as plain arrays. */
export async function onBackend(name: 'cpu' | 'wasm', fn: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await selectBackend(name);
  const out = tf.tidy(fn);
  const list = Array.isArray(out) ? out : [out];
  const values = list.map((t) => t.dataSync() as Float32Array);
  tf.dispose(list);
  return values;
}

/** max |a - b| / max |b| (b is the reference). */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / Math.max(scale, 1e-30);
}
