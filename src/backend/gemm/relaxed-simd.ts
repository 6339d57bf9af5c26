// Compiles torchport's GEMM module, which needs WebAssembly relaxed SIMD (for fused multiply-add).
// V8 ships it enabled from 11.4 (Node 22); Node 20's V8 11.3 has it complete behind
// --experimental-wasm-relaxed-simd, which we turn on at run time only if the module does not
// validate without it. The flag affects modules compiled afterwards and nothing else.
import v8 from 'node:v8';
import { gemmModule } from './gemm-kernel.js';

let compiled: WebAssembly.Module | null | undefined;

/** The compiled GEMM module, or null where this runtime cannot run relaxed SIMD. */
export function relaxedSimdGemm(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  const bytes = gemmModule();
  if (!WebAssembly.validate(bytes)) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  compiled = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  return compiled;
}
