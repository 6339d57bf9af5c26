// Compiles torchport's generated kernel modules, which need WebAssembly relaxed SIMD (for fused
// multiply-add), and instantiates them over the wasm backend's own memory.
// V8 ships relaxed SIMD enabled from 11.4 (Node 22); Node 20's V8 11.3 has it complete behind
// --experimental-wasm-relaxed-simd, which we turn on at run time only if a module does not
// validate without it. The flag affects modules compiled afterwards and nothing else.
import v8 from 'node:v8';

const compiled = new Map<() => Uint8Array<ArrayBuffer>, WebAssembly.Module | null>();

/** The module `generate` emits, compiled once; null where this runtime cannot run relaxed SIMD. */
export function compileRelaxedSimd(generate: () => Uint8Array<ArrayBuffer>): WebAssembly.Module | null {
  let module = compiled.get(generate);
  if (module !== undefined) return module;
  const bytes = generate();
  if (!WebAssembly.validate(bytes)) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  module = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  compiled.set(generate, module);
  return module;
}

/** Calls into the generated kernels' exports (`gemm4`, `depthwiseRow2`, `hardSwish`, ...) since start, so
 * tests can assert that the kernel path ran for the shapes meant to hit it, not only that outputs agree. */
export const simdKernelCalls = new Map<string, number>();

/** Calls so far into the exports whose names start with `prefix` (`gemm`, `depthwiseRow`, `hardSwish`). */
export const simdCallsTo = (prefix: string): number => [...simdKernelCalls].reduce((n, [name, calls]) => n + (name.startsWith(prefix) ? calls : 0), 0);

/** The instance's exports, each function counting its calls in simdKernelCalls. */
function counted(exports: WebAssembly.Exports): WebAssembly.Exports {
  const out: WebAssembly.Exports = {};
  for (const [name, value] of Object.entries(exports)) {
    if (typeof value !== 'function') {
      out[name] = value;
      continue;
    }
    const f = value as (...args: number[]) => unknown;
    out[name] = (...args: number[]) => {
      simdKernelCalls.set(name, (simdKernelCalls.get(name) ?? 0) + 1);
      return f(...args);
    };
  }
  return out;
}

const kernels = new WeakMap<WebAssembly.Memory, Map<() => Uint8Array<ArrayBuffer>, unknown>>();

/**
 * The kernel object `make` builds over the module `generate` emits, instantiated over `memory`
 * (once per pair), or undefined where relaxed SIMD is unavailable or the memory cannot be
 * imported (the threaded wasm build shares its memory, which these modules do not import).
 */
export function kernelOnHeap<K>(memory: WebAssembly.Memory, generate: () => Uint8Array<ArrayBuffer>, make: (exports: WebAssembly.Exports) => K): K | undefined {
  const byModule = kernels.get(memory) ?? new Map<() => Uint8Array<ArrayBuffer>, unknown>();
  kernels.set(memory, byModule);
  if (!byModule.has(generate)) {
    const module = compileRelaxedSimd(generate);
    let kernel: K | null = null;
    try {
      if (module) kernel = make(counted(new WebAssembly.Instance(module, { env: { memory } }).exports));
    } catch {
      // cannot link: the kernel stays null and the stock kernels run
    }
    byModule.set(generate, kernel);
  }
  return (byModule.get(generate) ?? undefined) as K | undefined;
}
