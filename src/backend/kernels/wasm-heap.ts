// The wasm backend's WebAssembly.Memory (its emscripten module exports it), for torchport's
// generated kernels, which work on tensors where tfjs keeps them.
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export function backendMemory(backend: BackendWasm): WebAssembly.Memory | undefined {
  const memory = (backend.wasm as unknown as { asm?: { memory?: unknown } }).asm?.memory;
  return memory instanceof WebAssembly.Memory ? memory : undefined;
}
