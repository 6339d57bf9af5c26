// Chooses the TF.js backend at run time: tfjs-node-gpu → tfjs-node → wasm → cpu.
// tfjs-node(-gpu) are optional packages (their install downloads libtensorflow), so they are
// imported dynamically and their absence is normal.
import * as tf from '@tensorflow/tfjs-core';
import { registerWasmKernels } from './kernels/register.js';

export type BackendRequest = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

export interface BackendChoice {
  /** The tfjs backend name now active. */
  name: string;
  /** Human-readable: which package provides it and why it was chosen. */
  detail: string;
}

async function tryNative(): Promise<BackendChoice | undefined> {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(pkg);
      if (await tf.setBackend('tensorflow')) return { name: 'tensorflow', detail: pkg };
    } catch {
      // not installed, or libtensorflow missing: fall through to the next candidate
    }
  }
  return undefined;
}

async function useWasm(): Promise<BackendChoice> {
  await import('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise');
  registerWasmKernels();
  return { name: 'wasm', detail: '@tensorflow/tfjs-backend-wasm (SIMD, 1 thread)' };
}

async function useCpu(): Promise<BackendChoice> {
  await import('@tensorflow/tfjs-backend-cpu');
  await tf.setBackend('cpu');
  return { name: 'cpu', detail: '@tensorflow/tfjs-backend-cpu (pure JS, slow: numerical reference)' };
}

export async function selectBackend(request: BackendRequest = 'auto'): Promise<BackendChoice> {
  tf.enableProdMode();
  switch (request) {
    case 'cpu':
      return useCpu();
    case 'wasm':
      return useWasm();
    case 'tensorflow': {
      const native = await tryNative();
      if (!native) throw new Error('tfjs-node(-gpu) is not installed or cannot load libtensorflow (see `torchport doctor`)');
      return native;
    }
    case 'auto':
      return (await tryNative()) ?? (await useWasm().catch(() => useCpu()));
  }
}
