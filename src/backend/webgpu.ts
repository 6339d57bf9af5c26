// TF.js's WebGPU backend in Node, through Dawn (the `webgpu` package's prebuilt dawn.node).
// @tensorflow/tfjs-backend-webgpu registers itself only where `navigator.gpu` exists and asks for a
// core-level adapter, which Node has not and Mesa's software GL cannot give; so torchport picks the
// adapter itself and registers the backend with it:
// * a hardware adapter first (Dawn's default: Vulkan, Metal or D3D12), on Linux only when a GPU
//   device node exists (otherwise Dawn finds nothing but lavapipe, which it rejects noisily);
// * when allowed, the software one: Dawn's OpenGL ES backend on Mesa llvmpipe, headless through
//   EGL_PLATFORM=surfaceless, at the 'compatibility' feature level (Dawn rejects lavapipe's Vulkan
//   for lacking shaderUniform*ArrayDynamicIndexing).
// Every adapter and device request is time-limited. Both packages are optional dependencies, so
// they are imported by a name the bundler and the type checker do not follow.
import { existsSync, readdirSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../errors.js';

export interface WebGpuAdapterInfo {
  vendor: string;
  architecture: string;
  description: string;
  device: string;
  /** A CPU implementation (llvmpipe, lavapipe, SwiftShader, WARP): slower than wasm. */
  software: boolean;
  /** The Dawn toggles it was created with ([] = Dawn's default backend for the platform). */
  dawnToggles: string[];
}

export type WebGpuFailure = 'missing-package' | 'no-adapter' | 'device-failed';

/** Why the webgpu backend cannot run: one line naming what is missing and how to get it. */
export class WebGpuError extends Error {
  constructor(readonly reason: WebGpuFailure, message: string) {
    super(message);
    this.name = 'WebGpuError';
  }
}

export interface WebGpuOptions {
  /** Fall back to Mesa's software adapter when no hardware one is found (tests, explicit requests). */
  allowSoftware?: boolean;
  /** Limit for each adapter or device request (default 10 s). */
  timeoutMs?: number;
  /** Dawn toggles for the hardware request, e.g. ['backend=vulkan'] (default: none, Dawn's choice). */
  dawnToggles?: string[];
}

// Minimal structural types of the WebGPU objects used here (the optional packages' types may be absent).
interface Adapter {
  info?: { vendor: string; architecture: string; description: string; device: string; isFallbackAdapter?: boolean };
  features: Set<string>;
  limits: Record<string, number>;
  requestDevice(descriptor: unknown): Promise<Device>;
}
interface Device {
  lost: Promise<{ reason: string; message: string }>;
  destroy(): void;
}
interface Gpu {
  requestAdapter(options?: Record<string, unknown>): Promise<Adapter | null>;
}
interface DawnModule {
  create(toggles: string[]): Gpu;
  globals: Record<string, unknown>;
}

export const INSTALL_HINT = 'npm install --save-exact webgpu@0.6.2 @tensorflow/tfjs-backend-webgpu@4.22.0';
const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader|microsoft basic render|software/i;
const SOFTWARE_TOGGLES = ['backend=opengles'];

async function importOptional<T>(name: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/Cannot find (module|package)/.test(message) && message.includes(name)) {
      throw new WebGpuError('missing-package', `webgpu: the npm package ${name} is not installed; install it with \`${INSTALL_HINT}\``);
    }
    throw new WebGpuError('missing-package', `webgpu: the npm package ${name} failed to load (${message.split('\n')[0]}); reinstall it with \`${INSTALL_HINT}\``);
  }
}

export function timeLimit<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new WebGpuError('no-adapter', `webgpu: ${what} did not answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** Whether a hardware adapter is worth asking for: on Linux only with a GPU device node. */
function mayHaveHardwareGpu(): boolean {
  if (process.platform !== 'linux') return true;
  const dri = existsSync('/dev/dri') && readdirSync('/dev/dri').some((f) => f.startsWith('renderD'));
  return dri || existsSync('/dev/nvidia0') || existsSync('/dev/dxg');
}

export function describeAdapter(adapter: Adapter, dawnToggles: string[]): WebGpuAdapterInfo {
  const info = adapter.info ?? { vendor: '', architecture: '', description: '', device: '' };
  const text = `${info.vendor} ${info.architecture} ${info.description} ${info.device}`;
  return {
    vendor: info.vendor, architecture: info.architecture, description: info.description, device: info.device,
    software: Boolean(info.isFallbackAdapter) || SOFTWARE.test(text),
    dawnToggles,
  };
}

/** The adapter's description, vendor, architecture and device, and a warning for a software one. */
export function formatAdapter(info: WebGpuAdapterInfo): string {
  const field = (v: string) => v || 'unknown';
  const via = info.dawnToggles.length ? ` via Dawn ${info.dawnToggles.join(' ')}` : '';
  const names = `"${field(info.description)}" (vendor ${field(info.vendor)}, architecture ${field(info.architecture)}, device ${field(info.device)})`;
  return info.software ? `${names}: software adapter${via}, slower than wasm` : `${names}${via}`;
}

// Kept for the life of the process: Dawn's instance must outlive its adapters.
const instances: Gpu[] = [];

async function requestAdapter(dawn: DawnModule, toggles: string[], options: Record<string, unknown>, timeoutMs: number): Promise<Adapter | null> {
  const gpu = dawn.create(toggles);
  instances.push(gpu);
  return timeLimit(gpu.requestAdapter(options), timeoutMs, `the adapter request (Dawn ${toggles.join(' ') || 'default backend'})`);
}

/**
 * The adapter webgpu would run on: a hardware one, else (if allowed) Mesa's software one.
 * Throws WebGpuError naming what is missing.
 */
export async function findAdapter(options: WebGpuOptions = {}): Promise<{ adapter: Adapter; info: WebGpuAdapterInfo; dawn: DawnModule }> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const dawn = await importOptional<DawnModule>('webgpu');
  const tried: string[] = [];
  if (mayHaveHardwareGpu()) {
    const toggles = options.dawnToggles ?? [];
    const adapter = await requestAdapter(dawn, toggles, { powerPreference: 'high-performance' }, timeoutMs);
    if (adapter) {
      const info = describeAdapter(adapter, toggles);
      if (!info.software || options.allowSoftware) return { adapter, info, dawn };
      tried.push(`only a software adapter, ${formatAdapter(info)}`);
    } else tried.push(`Dawn${toggles.length ? ` (${toggles.join(' ')})` : ''} found no hardware adapter`);
  } else tried.push('no GPU device node: no /dev/dri/renderD*, /dev/nvidia0 or /dev/dxg');
  if (options.allowSoftware) {
    process.env.EGL_PLATFORM ??= 'surfaceless';
    const adapter = await requestAdapter(dawn, SOFTWARE_TOGGLES, { featureLevel: 'compatibility' }, timeoutMs);
    if (adapter) return { adapter, info: describeAdapter(adapter, SOFTWARE_TOGGLES), dawn };
    tried.push(`no software adapter through EGL_PLATFORM=${process.env.EGL_PLATFORM}: install Mesa (Debian: apt-get install libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri) and leave EGL_PLATFORM unset`);
  }
  throw new WebGpuError('no-adapter', `webgpu: no usable GPU adapter: ${tried.join('; ')}`);
}

export const SYNC_READ_UNSUPPORTED =
  'webgpu in Node reads GPU data only asynchronously (await tensor.data()): a synchronous read (dataSync, arraySync) needs a browser\'s OffscreenCanvas';

/**
 * Two adaptations of the backend to Node. tfjs-backend-webgpu reads synchronously through an
 * OffscreenCanvas, which Node lacks: its bare ReferenceError becomes an explanation (values already
 * on the CPU, small tensors and data read before, still read synchronously). And once the device is
 * lost, every kernel and read fails with one line naming the loss, instead of running on a dead
 * device (whose tensors, model weights included, are gone).
 */
function adaptToNode(backend: tf.KernelBackend, state: { lost?: string }): tf.KernelBackend {
  const readSync = backend.readSync.bind(backend);
  backend.readSync = (dataId: object) => {
    assertAlive(state);
    try {
      return readSync(dataId);
    } catch (error) {
      if (error instanceof ReferenceError && /OffscreenCanvas/.test(error.message)) throw new Error(SYNC_READ_UNSUPPORTED);
      throw error;
    }
  };
  const read = backend.read.bind(backend);
  backend.read = (dataId: object) => (assertAlive(state), read(dataId));
  const gpu = backend as tf.KernelBackend & { runWebGPUProgram: (...args: unknown[]) => unknown };
  const run = gpu.runWebGPUProgram.bind(backend);
  gpu.runWebGPUProgram = (...args: unknown[]) => (assertAlive(state), run(...args));
  return backend;
}

function assertAlive(state: { lost?: string }): void {
  if (state.lost !== undefined) {
    throw new InputError(
      `webgpu: the GPU device was lost (${state.lost}); its tensors are gone. A training run continues from its last saved checkpoint with --resume (on any backend, e.g. --backend wasm)`,
    );
  }
}

let active: { info: WebGpuAdapterInfo; device: Device; lost?: string } | undefined;

/** Why the webgpu device is gone, once it is (its tensors went with it); undefined while it lives. */
export function webGpuDeviceLoss(): string | undefined {
  const lost = active?.lost;
  return lost === undefined ? undefined : `webgpu: the GPU device was lost (${lost})`;
}

/** The adapter the registered webgpu backend runs on, and why its device was lost, if it was. */
export function webGpuState(): { info: WebGpuAdapterInfo; lost?: string } | undefined {
  return active && { info: active.info, lost: active.lost };
}

/**
 * Registers 'webgpu' on the chosen adapter and makes it the active backend. Idempotent: a second
 * call reuses the running backend.
 */
export async function useWebGpu(options: WebGpuOptions = {}): Promise<WebGpuAdapterInfo> {
  if (active && !active.lost && tf.findBackend('webgpu')) {
    if (active.info.software && !options.allowSoftware) throw new WebGpuError('no-adapter', `webgpu: only a software adapter is running, ${formatAdapter(active.info)}`);
    await tf.setBackend('webgpu');
    return active.info;
  }
  const { adapter, info, dawn } = await findAdapter(options);
  // tfjs-backend-webgpu names GPUBufferUsage, GPUMapMode, ... as globals and checks for
  // navigator.gpu, as in a browser.
  for (const [name, value] of Object.entries(dawn.globals)) if (!(name in globalThis)) Object.assign(globalThis, { [name]: value });
  const nav = ((globalThis as { navigator?: object }).navigator ??= {}) as { gpu?: unknown };
  if (!nav.gpu) Object.defineProperty(nav, 'gpu', { value: instances[instances.length - 1], configurable: true });
  const webgpu = await importOptional<{ WebGPUBackend: new (device: Device, info: unknown) => tf.KernelBackend }>('@tensorflow/tfjs-backend-webgpu');
  const limits = adapter.limits;
  const device = await timeLimit(
    adapter.requestDevice({
      requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
      // The limits tfjs-backend-webgpu asks for, plus the storage-buffer counts its kernels bind.
      requiredLimits: Object.fromEntries(
        ['maxComputeWorkgroupStorageSize', 'maxComputeWorkgroupsPerDimension', 'maxStorageBufferBindingSize', 'maxBufferSize',
          'maxComputeWorkgroupSizeX', 'maxComputeInvocationsPerWorkgroup', 'maxStorageBuffersPerShaderStage']
          .filter((k) => limits[k] !== undefined)
          .map((k) => [k, limits[k]]),
      ),
    }).catch((error: Error) => {
      throw new WebGpuError('device-failed', `webgpu: ${formatAdapter(info)} refused a device (${error.message.split('\n')[0]})`);
    }),
    options.timeoutMs ?? 10_000,
    'the device request',
  );
  const state: NonNullable<typeof active> = { info, device };
  // torchport never destroys the device while its backend is registered, so any loss is a failure.
  void device.lost.then((lost) => {
    if (active === state) state.lost = lost.message || lost.reason || 'unknown reason';
  });
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => adaptToNode(new webgpu.WebGPUBackend(device, adapter.info), state), 0);
  if (!(await tf.setBackend('webgpu'))) throw new WebGpuError('device-failed', `webgpu: the backend failed to start on ${formatAdapter(info)}`);
  active = state;
  return info;
}
