// Chooses the TF.js backend at run time: tfjs-node-gpu → tfjs-node → wasm → cpu.
// tfjs-node(-gpu) are optional packages (their install downloads libtensorflow), so they are
// imported dynamically and their absence is normal. Selecting wasm also registers torchport's wasm
// kernels (the gradients stock wasm lacks, and faster replacements for slow ones).
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { ensureGradients } from './gradients.js';
import { registerWasmKernels } from './kernels/register.js';
import { simdKernelsStatus } from './kernels/simd_product.js';
import { classifyNativeLoadError } from './status.js';
import { useThreadedWasm } from './threads.js';

export type BackendRequest = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

export interface BackendChoice {
  /** The tfjs backend name now active. */
  name: string;
  /** Human-readable: which package provides it, how it is configured, and why it was chosen. */
  detail: string;
}

export interface SelectOptions {
  /**
   * wasm threads (opt-in, default 1). More than 1 loads tfjs's threaded wasm build through a
   * workaround for Node (see threads.ts); it helps on an idle machine and collapses under CPU
   * contention. If it cannot start, selection falls back to 1 thread and says so in `detail`.
   */
  threads?: number;
  /** Also register tfjs-core's gradients (needed by tf.grad and optimizers; ~1.5 s once). */
  training?: boolean;
}

const NATIVE = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

async function tryNative(skipped: string[]): Promise<BackendChoice | undefined> {
  for (const pkg of NATIVE) {
    try {
      await import(pkg);
      if (await tf.setBackend('tensorflow')) return { name: 'tensorflow', detail: pkg };
      skipped.push(`${pkg}: the tensorflow backend failed to initialise`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const reason = classifyNativeLoadError(message);
      skipped.push(`${pkg}: ${reason === 'missing-package' ? 'not installed' : reason}`);
    }
  }
  return undefined;
}

async function useWasm(threads: number): Promise<BackendChoice> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  let threadNote = '';
  if (threads > 1) {
    const failure = await useThreadedWasm(threads);
    if (failure) threadNote = ` (${threads} threads requested, unavailable: ${failure})`;
  }
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise');
  registerWasmKernels();
  const kernels = simdKernelsStatus(tf.backend() as BackendWasm);
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const count = wasm.getThreadsCount();
  return {
    name: 'wasm',
    detail: `@tensorflow/tfjs-backend-wasm ${wasm.version_wasm} (${simd ? 'SIMD' : 'no SIMD'}, ${count} thread${count === 1 ? '' : 's'}${threadNote}) + torchport kernels (gradients; ${kernels})`,
  };
}

async function useCpu(): Promise<BackendChoice> {
  await import('@tensorflow/tfjs-backend-cpu');
  await tf.setBackend('cpu');
  return { name: 'cpu', detail: '@tensorflow/tfjs-backend-cpu (pure JS, slow: numerical reference)' };
}

async function choose(request: BackendRequest, threads: number): Promise<BackendChoice> {
  switch (request) {
    case 'cpu':
      return useCpu();
    case 'wasm':
      return useWasm(threads);
    case 'tensorflow': {
      const skipped: string[] = [];
      const native = await tryNative(skipped);
      if (!native) throw new Error(`tfjs-node(-gpu) cannot be used (${skipped.join('; ')}); see \`torchport doctor\``);
      return native;
    }
    case 'auto': {
      const skipped: string[] = [];
      const choice =
        (await tryNative(skipped)) ??
        (await useWasm(threads).catch((error: Error) => {
          skipped.push(`wasm: ${error.message}`);
          return useCpu();
        }));
      return skipped.length ? { ...choice, detail: `${choice.detail}; skipped ${skipped.join('; ')}` } : choice;
    }
  }
}

export async function selectBackend(request: BackendRequest = 'auto', options: SelectOptions = {}): Promise<BackendChoice> {
  tf.enableProdMode();
  const choice = await choose(request, options.threads ?? 1);
  if (options.training) await ensureGradients();
  return choice;
}
