// Opt-in multi-threaded wasm under Node. tfjs-backend-wasm 4.22 never uses threads in Node:
// its WASM_HAS_MULTITHREAD_SUPPORT flag is false whenever IS_NODE (tfjs issue #3830), it hands
// emscripten a Blob URL for the pthread worker (Node's worker_threads cannot load those), and the
// C++ side caps the pool at os.cpus().length / 2. This re-registers the 'wasm' backend with a
// factory that loads the threaded-SIMD build itself: the worker script is written to a real file,
// and os.cpus() reports enough cores while the pool is created. It depends on the package's
// internal file layout, so any failure is reported and the caller keeps the 1-thread backend.
import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import { rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

interface EmscriptenModule {
  cwrap: (name: string, ret: string | null, args: string[]) => unknown;
  tfjs?: Record<string, unknown>;
  PThread?: { unusedWorkers: Array<{ unref(): void }>; runningWorkers: Array<{ unref(): void }> };
}
type Factory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;

function threadedFactory(threads: number): () => Promise<tf.KernelBackend> {
  const wasmPkg = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
  const pkgDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  const factory = require(join(pkgDir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js')) as Factory;
  const { wasmWorkerContents } = require(join(pkgDir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string };
  const workerFile = join(os.tmpdir(), `torchport-tfjs-wasm-${wasmPkg.version_wasm}-${process.pid}.worker.cjs`);
  writeFileSync(workerFile, wasmWorkerContents.replace(/\n/g, '\\n'));
  process.once('exit', () => rmSync(workerFile, { force: true }));
  return async () => {
    wasmPkg.setThreadsCount(threads);
    const cpus = os.cpus;
    os.cpus = () => Array.from({ length: 2 * threads }, () => cpus()[0]);
    try {
      const module = await factory({
        locateFile: (path: string, prefix: string) =>
          path.endsWith('.worker.js') ? workerFile
          : path.endsWith('.wasm') ? join(pkgDir, 'dist', 'tfjs-backend-wasm-threaded-simd.wasm')
          : prefix + path,
      });
      // The same bridge the package's own init() builds.
      module.tfjs = {
        init: module.cwrap('init', null, []),
        initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
        getThreadsCount: module.cwrap('get_threads_count', 'number', []),
        registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
        disposeData: module.cwrap('dispose_data', null, ['number']),
        dispose: module.cwrap('dispose', null, []),
      };
      const backend = new wasmPkg.BackendWasm(module as never);
      // The pool's workers must not keep the process alive once the program is done.
      for (const worker of [...(module.PThread?.unusedWorkers ?? []), ...(module.PThread?.runningWorkers ?? [])]) worker.unref();
      return backend;
    } finally {
      os.cpus = cpus;
    }
  };
}

/**
 * Makes the next tf.setBackend('wasm') start `threads` threads. Returns undefined on success or a
 * short reason why not (the stock 1-thread backend then stays registered).
 */
export async function useThreadedWasm(threads: number): Promise<string | undefined> {
  if (tf.findBackend('wasm')) return 'the wasm backend is already running in this process';
  let factory: () => Promise<tf.KernelBackend>;
  try {
    factory = threadedFactory(threads);
  } catch (error) {
    return `cannot load the threaded wasm build: ${(error as Error).message}`;
  }
  const stock = tf.findBackendFactory('wasm');
  tf.removeBackend('wasm');
  tf.registerBackend('wasm', factory, 2);
  try {
    if (await tf.setBackend('wasm')) return undefined;
  } catch {
    // fall through to restoring the stock backend
  }
  tf.removeBackend('wasm');
  if (stock) tf.registerBackend('wasm', stock, 2);
  return 'the threaded wasm build failed to start';
}
