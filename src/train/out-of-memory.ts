// A training step that exhausts the wasm heap (32-bit: 4 GiB at most) surfaces as a raw
// RuntimeError from inside tfjs ("memory access out of bounds", "Cannot enlarge memory"), or as a
// RangeError when an ArrayBuffer cannot be allocated. That is the input being too large for the
// machine, not a defect: it becomes one line with the heap size reached and what would fit.
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { backendMemory } from '../backend/kernels/wasm-heap.js';
import { InputError } from '../errors.js';

const OUT_OF_MEMORY = /memory access out of bounds|Cannot enlarge memory|Aborted\(OOM\)|out of memory|Array buffer allocation failed/i;

export function isOutOfMemory(err: unknown): boolean {
  return err instanceof Error && (err.name === 'RuntimeError' || err instanceof RangeError || /OOM|memory/i.test(err.message)) && OUT_OF_MEMORY.test(err.message);
}

/** How much memory the backend holds now: the wasm heap, or the process's resident set elsewhere. */
export function memoryReached(): string {
  const memory = tf.getBackend() === 'wasm' ? backendMemory(tf.backend() as BackendWasm) : undefined;
  const mb = (bytes: number) => `${Math.round(bytes / 2 ** 20).toLocaleString('en-US')} MB`;
  return memory ? `the wasm heap reached ${mb(memory.buffer.byteLength)} of its 4,096 MB limit` : `the process holds ${mb(process.memoryUsage().rss)}`;
}

/** The InputError for an out-of-memory `err` met `where`, or `err` itself when it is something else. */
export function outOfMemoryError(err: unknown, where: string, advice: string, file?: string): unknown {
  if (!isOutOfMemory(err)) return err;
  return new InputError(`out of memory ${where}: ${memoryReached()} (${(err as Error).message}); ${advice}`, file);
}
