// Chooses the TF.js backend at run time. `auto` tries tfjs-node-gpu when TensorFlow really has a
// GPU device, then webgpu on a hardware adapter, then wasm, then cpu. tfjs-node(-gpu) and webgpu
// are optional packages (tfjs-node's install downloads libtensorflow), so they are imported
// dynamically and their absence is normal. tfjs-node-gpu without CUDA runs on the CPU, and so does
// webgpu on a software adapter (Mesa's llvmpipe, 40-60x slower than wasm): `auto` skips both and
// says why. Selecting wasm also registers torchport's wasm kernels (the gradients stock wasm lacks,
// and faster replacements for slow ones).
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { InputError } from '../errors.js';
import { ensureGradients } from './gradients.js';
import { registerWasmKernels } from './kernels/register.js';
import { simdKernelsStatus } from './kernels/simd-product.js';
import { classifyNativeLoadError, NO_CUDA } from './status.js';
import { useThreadedWasm } from './threads.js';
import { formatAdapter, useWebGpu, WebGpuError } from './webgpu.js';

export type BackendRequest = 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

/** Every request, in the order `auto` tries the backends (for the CLI's `--backend` choices). */
export const BACKEND_REQUESTS: readonly BackendRequest[] = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'];

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
  /**
   * webgpu: accept a software adapter (Mesa's llvmpipe through Dawn's OpenGL ES backend) when no
   * hardware one is found. Default: true for an explicit 'webgpu' request, never for 'auto'.
   */
  allowSoftwareGpu?: boolean;
  /** webgpu: the limit for each adapter and device request (default 10 s). */
  gpuTimeoutMs?: number;
}


const NATIVE = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

/** tfjs-node's backend says whether TensorFlow placed its ops on a GPU. */
const usesGpu = () => Boolean((tf.backend() as tf.KernelBackend & { isUsingGpuDevice?: boolean }).isUsingGpuDevice);

/**
 * The first tfjs-node package that loads and starts. With `gpuOnly` (auto), tfjs-node-gpu counts
 * only if TensorFlow found a GPU device, and tfjs-node (the CPU build) is skipped.
 */
async function tryNative(skipped: string[], gpuOnly: boolean): Promise<BackendChoice | undefined> {
  for (const pkg of NATIVE) {
    const gpuPackage = pkg === '@tensorflow/tfjs-node-gpu';
    try {
      await import(pkg);
      if (!(await tf.setBackend('tensorflow'))) {
        skipped.push(`${pkg}: the tensorflow backend failed to initialise`);
        continue;
      }
      const gpu = usesGpu();
      if (gpu) return { name: 'tensorflow', detail: `${pkg} (GPU device)` };
      if (gpuOnly) {
        skipped.push(gpuPackage ? `tfjs-node-gpu: ${NO_CUDA}` : `${pkg}: CPU only, not tried by auto (use --backend tensorflow)`);
        continue;
      }
      return { name: 'tensorflow', detail: gpuPackage ? `${pkg}: ${NO_CUDA}` : `${pkg} (CPU)` };
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

let warnedSoftware = false;

async function webgpu(allowSoftware: boolean, timeoutMs: number | undefined): Promise<BackendChoice> {
  const info = await useWebGpu({ allowSoftware, timeoutMs });
  if (info.software && !warnedSoftware) {
    warnedSoftware = true;
    process.stderr.write('torchport: warning: webgpu runs on a software adapter (no GPU found), much slower than --backend wasm\n');
  }
  return { name: 'webgpu', detail: `@tensorflow/tfjs-backend-webgpu on ${formatAdapter(info)}` };
}

async function useCpu(): Promise<BackendChoice> {
  await import('@tensorflow/tfjs-backend-cpu');
  await tf.setBackend('cpu');
  return { name: 'cpu', detail: '@tensorflow/tfjs-backend-cpu (pure JS, slow: numerical reference)' };
}

async function choose(request: BackendRequest, options: SelectOptions): Promise<BackendChoice> {
  const threads = options.threads ?? 1;
  switch (request) {
    case 'cpu':
      return useCpu();
    case 'wasm':
      return useWasm(threads);
    case 'webgpu':
      try {
        return await webgpu(options.allowSoftwareGpu ?? true, options.gpuTimeoutMs);
      } catch (error) {
        if (error instanceof WebGpuError) throw new InputError(error.message);
        throw error;
      }
    case 'tensorflow': {
      const skipped: string[] = [];
      const native = await tryNative(skipped, false);
      if (!native) throw new InputError(`tfjs-node(-gpu) cannot be used (${skipped.join('; ')}); see \`torchport doctor\``);
      return native;
    }
    case 'auto': {
      const skipped: string[] = [];
      const choice =
        (await tryNative(skipped, true)) ??
        (await webgpu(options.allowSoftwareGpu ?? false, options.gpuTimeoutMs).catch((error: Error) => {
          const missing = error instanceof WebGpuError && error.reason === 'missing-package';
          skipped.push(missing ? 'webgpu: not installed' : error instanceof WebGpuError ? error.message : `webgpu: ${error.message}`);
          return undefined;
        })) ??
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
  if (!BACKEND_REQUESTS.includes(request)) throw new InputError(`unknown backend '${request}' (one of ${BACKEND_REQUESTS.join(', ')})`);
  const choice = await choose(request, options);
  if (options.training) await ensureGradients();
  return choice;
}
