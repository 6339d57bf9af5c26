// Wraps a computation written with tfjs ops as a wasm kernel.
// Inside a kernelFunc the engine hands over TensorInfos it owns; we wrap each as a tensor of our
// own (backend.incRef + makeTensorFromTensorInfo, undone when the tidy disposes the wrapper) and
// hand the result back as a bare TensorInfo whose one backend reference the engine then adopts
// (incRef, then dispose our tensor). The counts balance, so nothing leaks and nothing is freed
// early. The engine keeps the tape off while a kernel runs, so the inner ops are not recorded.
import * as tf from '@tensorflow/tfjs-core';

export type TensorMap = Record<string, tf.Tensor>;
export type CompositeCompute = (inputs: TensorMap, attrs: tf.NamedAttrMap) => tf.Tensor;

/** Tensors of our own over the kernel's inputs; the caller disposes them (or a tidy does). */
export function wrapInputs(backend: tf.KernelBackend, inputs: tf.NamedTensorInfoMap): TensorMap {
  const wrapped: TensorMap = {};
  for (const [name, info] of Object.entries(inputs)) {
    if (info == null) continue;
    backend.incRef(info.dataId);
    wrapped[name] = tf.engine().makeTensorFromTensorInfo(info);
  }
  return wrapped;
}

/** Turns our result tensor into the bare TensorInfo a kernel returns, its data reference kept. */
export function handOver(backend: tf.KernelBackend, out: tf.Tensor): tf.TensorInfo {
  backend.incRef(out.dataId);
  const info: tf.TensorInfo = { dataId: out.dataId, shape: out.shape, dtype: out.dtype };
  out.dispose();
  return info;
}

export function compositeKernel(kernelName: string, compute: CompositeCompute): tf.KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend: anyBackend, attrs }) => {
      const backend = anyBackend as tf.KernelBackend;
      return handOver(backend, tf.tidy(() => compute(wrapInputs(backend, inputs), attrs ?? {})));
    },
  };
}

type KernelArgs = Parameters<tf.KernelFunc>[0];
type KernelResult = tf.TensorInfo | tf.TensorInfo[];

/**
 * A replacement for a stock wasm kernel: `fast` handles the cases it takes and returns undefined
 * for the others (a dtype, shape or attribute it does not cover), which go to the stock kernel.
 */
export function withFastPath(fast: (args: KernelArgs) => KernelResult | undefined) {
  return (stock: tf.KernelConfig): tf.KernelConfig => ({
    kernelName: stock.kernelName,
    backendName: 'wasm',
    kernelFunc: (args) => fast(args) ?? stock.kernelFunc(args),
  });
}
