// Identity, and Cast to the same dtype, as a shared reference instead of a copy (what the cpu
// backend does). tfjs never writes into an existing buffer, so sharing is safe; stock wasm copies,
// and a training step runs ~2000 Identities (the engine clones every tensor it saves for backprop).
import * as tf from '@tensorflow/tfjs-core';
import { withFastPath } from './composite.js';

function share(x: tf.TensorInfo, backend: tf.KernelBackend): tf.TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export const sharingIdentity = withFastPath((args) => {
  const { x } = args.inputs as { x: tf.TensorInfo };
  return x.dtype === 'string' ? undefined : share(x, args.backend as tf.KernelBackend);
});

export const sharingCast = withFastPath((args) => {
  const { x } = args.inputs as { x: tf.TensorInfo };
  return x.dtype === args.attrs!.dtype && x.dtype !== 'string' ? share(x, args.backend as tf.KernelBackend) : undefined;
});
