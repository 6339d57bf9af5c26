// Shared by the detection tests: fixture paths and comparisons.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toFloat32 } from '../../../src/checkpoint/dtype.js';
import type { TorchTensor } from '../../../src/checkpoint/types.js';
import { decodeNpy } from '../../../src/checkpoint/npy.js';

export const FIXTURE = join(import.meta.dirname, '../../../fixtures/fasterrcnn');

export function npy(name: string): TorchTensor {
  return decodeNpy(readFileSync(join(FIXTURE, `${name}.npy`)));
}

export function f32(name: string): Float32Array {
  return toFloat32(npy(name));
}

export function json<T = any>(name: string): T {
  return JSON.parse(readFileSync(join(FIXTURE, name), 'utf8')) as T;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'lengths differ');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  const d = maxAbsDiff(actual, expected);
  assert.ok(d <= tol, `${what}: max abs difference ${d} exceeds ${tol}`);
}
