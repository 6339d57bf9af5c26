// Wraps a computation written with tfjs ops as a wasm kernel.
// Inside a kernelFunc the engine hands over TensorInfos it owns; we wrap each as a tensor of our
// own (backend.incRef + makeTensorFromTensorInfo, undone when the tidy disposes the wrapper) and
// hand the result back as a bare TensorInfo whose one backend reference the engine then adopts
// (incRef, then dispose our tensor). The counts balance, so nothing leaks and nothing is freed
// early. The engine keeps the tape off while a kernel runs, so the inner ops are not recorded.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

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

/** The attributes of tfjs's convolution kernels (plain, fused and depthwise). */
export interface ConvolutionAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** A convolution computed another way: a result, or undefined to leave the case to the stock kernel. */
export type ConvolutionPath = (backend: BackendWasm, x: tf.TensorInfo, filter: tf.TensorInfo, attrs: ConvolutionAttrs, bias: tf.TensorInfo | undefined, relu: boolean) => tf.TensorInfo | undefined;

/**
 * Wrappers taking `path` for a plain convolution kernel (Conv2D, DepthwiseConv2dNative) and for its
 * fused form (FusedConv2D, FusedDepthwiseConv2D) when that adds at most a bias and a ReLU.
 */
export function convolutionFastPaths(path: ConvolutionPath): { plain: ReturnType<typeof withFastPath>; fused: ReturnType<typeof withFastPath> } {
  return {
    plain: withFastPath((args) => {
      const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
      return path(args.backend as BackendWasm, x, filter, args.attrs as unknown as ConvolutionAttrs, undefined, false);
    }),
    fused: withFastPath((args) => {
      const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
      const activation = args.attrs?.activation;
      if (!x || !filter || preluActivationWeights || (activation !== 'linear' && activation !== 'relu')) return undefined;
      return path(args.backend as BackendWasm, x, filter, args.attrs as unknown as ConvolutionAttrs, bias, activation === 'relu');
    }),
  };
}
