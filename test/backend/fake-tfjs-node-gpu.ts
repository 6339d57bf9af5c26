// Stands in for @tensorflow/tfjs-node-gpu (which cannot be installed here) in
// select-preflight.test.ts: a 'tensorflow' backend running the cpu backend's kernels, whose
// isUsingGpuDevice, the flag tfjs-node's backend sets from TensorFlow's device list, is
// FAKE_TF_GPU === '1'.
import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

class FakeNodeBackend extends MathBackendCPU {
  readonly isUsingGpuDevice = process.env.FAKE_TF_GPU === '1';
}

for (const kernel of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...kernel, backendName: 'tensorflow' });
tf.registerBackend('tensorflow', () => new FakeNodeBackend(), 0);
