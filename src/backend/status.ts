// What each TF.js backend needs, whether it is here, and why not: the data behind `torchport doctor`.
// Checks files and the loader cache, and asks Dawn for a WebGPU adapter (time-limited; this loads
// tfjs-core and dawn.node, nothing else); with `probe: true` it also loads the native bindings
// (which registers the 'tensorflow' backend as a side effect) and asks TensorFlow for a GPU device.
import { createRequire } from 'node:module';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { delimiter, dirname, join } from 'node:path';

export type BackendPackage =
  | '@tensorflow/tfjs-node-gpu'
  | '@tensorflow/tfjs-node'
  | '@tensorflow/tfjs-backend-webgpu'
  | '@tensorflow/tfjs-backend-wasm'
  | '@tensorflow/tfjs-backend-cpu';

export type UnusableReason =
  | 'missing-package' // not installed (tfjs-node-gpu is an optional dependency)
  | 'libtensorflow-missing' // installed, but its install script did not download libtensorflow / build the binding
  | 'cuda-libs-missing' // tfjs-node-gpu without the CUDA/cuDNN shared libraries it links against
  | 'no-adapter' // webgpu: Dawn found no GPU adapter, hardware or software
  | 'load-failed'; // anything else; see detail

export interface BackendStatus {
  /** The tfjs backend name the package registers. */
  backend: 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
  package: BackendPackage;
  installed: boolean;
  version?: string;
  usable: boolean;
  reason?: UnusableReason;
  /** One human-readable line. */
  detail: string;
  /** Usable, but `auto` passes it over (a software WebGPU adapter, tfjs-node-gpu without CUDA): why. */
  autoSkips?: string;
  /** webgpu: the adapter it runs on. */
  adapter?: { vendor: string; architecture: string; description: string; device: string; software: boolean };
}

const require = createRequire(import.meta.url);

/** What tfjs-node-gpu is when TensorFlow finds no GPU device. */
export const NO_CUDA = 'CPU only (no CUDA 11.2 / cuDNN 8.1 found)';

function packageDir(pkg: string): string | undefined {
  try {
    return dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    return undefined;
  }
}

/** Directories the dynamic loader searches: LD_LIBRARY_PATH, then what `ldconfig -p` lists. */
function sharedLibraryNames(): string[] {
  const names: string[] = [];
  for (const dir of (process.env.LD_LIBRARY_PATH ?? '').split(delimiter).filter(Boolean)) {
    try {
      names.push(...readdirSync(dir));
    } catch {
      // a stale entry in LD_LIBRARY_PATH
    }
  }
  try {
    const cache = execFileSync('ldconfig', ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    for (const line of cache.split('\n')) names.push(line.trim().split(' ')[0]);
  } catch {
    // no ldconfig (not Linux): rely on LD_LIBRARY_PATH only
  }
  return names;
}

/** Maps an error from loading tfjs-node(-gpu) to a reason. */
export function classifyNativeLoadError(message: string): UnusableReason {
  if (/Cannot find (module|package) '@tensorflow\/tfjs-node/.test(message)) return 'missing-package';
  if (/lib(cudart|cublas|cudnn|cufft|curand|cusolver|cusparse|nvinfer)[^:]*: cannot open shared object/i.test(message)) return 'cuda-libs-missing';
  if (/libtensorflow|tfjs_binding\.node/.test(message)) return 'libtensorflow-missing';
  return 'load-failed';
}

function nativeStatus(pkg: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node', libs: string[]): BackendStatus {
  const base = { backend: 'tensorflow' as const, package: pkg };
  const dir = packageDir(pkg);
  if (!dir) return { ...base, installed: false, usable: false, reason: 'missing-package', detail: `${pkg} is not installed` };
  const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  const depsLib = join(dir, 'deps', 'lib');
  const hasLibtf = existsSync(depsLib) && readdirSync(depsLib).some((f) => f.startsWith('libtensorflow'));
  if (!hasLibtf) {
    return {
      ...base, installed: true, version, usable: false, reason: 'libtensorflow-missing',
      detail: `${pkg} ${version} is installed but ${depsLib} has no libtensorflow: its install-time download failed (offline?); rerun \`npm rebuild ${pkg}\` with network access`,
    };
  }
  if (pkg === '@tensorflow/tfjs-node-gpu') {
    const missing = ['libcudart.so', 'libcudnn.so'].filter((lib) => !libs.some((name) => name.startsWith(lib)));
    if (missing.length > 0) {
      return {
        ...base, installed: true, version, usable: false, reason: 'cuda-libs-missing',
        detail: `${pkg} ${version}: the CUDA libraries ${missing.join(', ')} are not on the loader path (install CUDA/cuDNN or set LD_LIBRARY_PATH)`,
      };
    }
  }
  const cpuBuild = pkg === '@tensorflow/tfjs-node' ? { autoSkips: 'CPU build: only with --backend tensorflow' } : {};
  return { ...base, installed: true, version, usable: true, detail: `${pkg} ${version} with libtensorflow`, ...cpuBuild };
}

function jsStatus(pkg: '@tensorflow/tfjs-backend-wasm' | '@tensorflow/tfjs-backend-cpu', backend: 'wasm' | 'cpu'): BackendStatus {
  const dir = packageDir(pkg);
  if (!dir) return { backend, package: pkg, installed: false, usable: false, reason: 'missing-package', detail: `${pkg} is not installed` };
  const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  if (backend === 'cpu') return { backend, package: pkg, installed: true, version, usable: true, detail: `${pkg} ${version} (pure JS, slow)` };
  const binary = join(dir, 'dist', 'tfjs-backend-wasm-simd.wasm');
  if (!existsSync(binary)) {
    return { backend, package: pkg, installed: true, version, usable: false, reason: 'load-failed', detail: `${pkg} ${version}: ${binary} is missing` };
  }
  const simd = WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 9, 1, 7, 0, 65, 0, 253, 15, 26, 11]));
  return { backend, package: pkg, installed: true, version, usable: true, detail: `${pkg} ${version} (${simd ? 'SIMD' : 'no SIMD: slower'})` };
}

async function webgpuStatus(): Promise<BackendStatus> {
  const pkg = '@tensorflow/tfjs-backend-webgpu';
  const base = { backend: 'webgpu' as const, package: pkg } satisfies Partial<BackendStatus>;
  const dir = packageDir(pkg);
  const dawnDir = packageDir('webgpu');
  const version = dir && (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  const { findAdapter, formatAdapter, INSTALL_HINT } = await import('./webgpu.js');
  if (!dir || !dawnDir) {
    const missing = [!dawnDir && 'webgpu (Dawn)', !dir && pkg].filter(Boolean).join(' and ');
    return { ...base, installed: false, version, usable: false, reason: 'missing-package', detail: `${missing} not installed: ${INSTALL_HINT}` };
  }
  try {
    const { info } = await findAdapter({ allowSoftware: true });
    const { dawnToggles: _, ...adapter } = info;
    return {
      ...base, installed: true, version, usable: true, adapter,
      detail: `adapter ${formatAdapter(info)}`,
      autoSkips: info.software ? 'software adapter: only with --backend webgpu' : undefined,
    };
  } catch (error) {
    return { ...base, installed: true, version, usable: false, reason: 'no-adapter', detail: (error as Error).message };
  }
}

/** Status of every backend torchport can use, in the order `auto` tries them. */
export async function backendStatus(options: { probe?: boolean } = {}): Promise<BackendStatus[]> {
  const libs = sharedLibraryNames();
  const native = [nativeStatus('@tensorflow/tfjs-node-gpu', libs), nativeStatus('@tensorflow/tfjs-node', libs)];
  if (options.probe) {
    for (const status of native.filter((s) => s.usable)) {
      try {
        await import(status.package);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        Object.assign(status, { usable: false, reason: classifyNativeLoadError(message), detail: `${status.package}: ${message.split('\n')[0]}` });
      }
    }
    const gpu = native[0];
    if (gpu.usable) {
      const tf = await import('@tensorflow/tfjs-core');
      const started = await tf.setBackend('tensorflow').catch(() => false);
      const onGpu = started && Boolean((tf.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice);
      if (!onGpu) Object.assign(gpu, { autoSkips: NO_CUDA });
    }
  }
  return [...native, await webgpuStatus(), jsStatus('@tensorflow/tfjs-backend-wasm', 'wasm'), jsStatus('@tensorflow/tfjs-backend-cpu', 'cpu')];
}
