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

const instances = new WeakMap<WebAssembly.Memory, Map<WebAssembly.Module, WebAssembly.Exports | null>>();

/**
 * The exports of `module` instantiated over `memory` (once per pair), or undefined where it cannot
 * link: the threaded wasm build shares its memory, which these modules do not import.
 */
function instanceOnHeap(memory: WebAssembly.Memory, module: WebAssembly.Module): WebAssembly.Exports | undefined {
  const byModule = instances.get(memory) ?? new Map<WebAssembly.Module, WebAssembly.Exports | null>();
  instances.set(memory, byModule);
  let exports = byModule.get(module);
  if (exports === undefined) {
    try {
      exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
    } catch {
      exports = null;
    }
    byModule.set(module, exports);
  }
  return exports ?? undefined;
}

const kernels = new WeakMap<WebAssembly.Exports, unknown>();

/**
 * The kernel object `make` builds over the module `generate` emits, instantiated over `memory`
 * (one per memory), or undefined where relaxed SIMD or the memory is unavailable.
 */
export function kernelOnHeap<K>(memory: WebAssembly.Memory, generate: () => Uint8Array<ArrayBuffer>, make: (exports: WebAssembly.Exports) => K): K | undefined {
  const module = compileRelaxedSimd(generate);
  const exports = module && instanceOnHeap(memory, module);
  if (!exports) return undefined;
  if (!kernels.has(exports)) kernels.set(exports, make(exports));
  return kernels.get(exports) as K;
}
