// Identity, and Cast to the same dtype, as a shared reference instead of a copy (what the cpu
// backend does). tfjs never writes into an existing buffer, so sharing is safe; stock wasm copies,
// and a training step runs ~2000 Identities (the engine clones every tensor it saves for backprop).
import * as tf from '@tensorflow/tfjs-core';

function share(x: tf.TensorInfo, backend: tf.KernelBackend): tf.TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export function sharingIdentity(stock: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: 'Identity',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      return x.dtype === 'string' ? stock.kernelFunc(args) : share(x, args.backend as tf.KernelBackend);
    },
  };
}

export function sharingCast(stock: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: 'Cast',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      return x.dtype === args.attrs!.dtype && x.dtype !== 'string' ? share(x, args.backend as tf.KernelBackend) : stock.kernelFunc(args);
    },
  };
}
