// Hard-sigmoid and hard-swish (PyTorch's definitions) as single kernels where torchport registers
// them (wasm: one SIMD pass; cpu: one loop), the four tfjs ops (add, relu6, div, mul) elsewhere.
// Values and gradients are bit-identical to those four ops': the kernels repeat their operations
// in order, and the gradients below repeat what autodiff does through them (tfjs's Relu6 mask
// `x <= 6 && x > 0`, the division's dy / 6, and the product rule's two terms).
import * as tf from '@tensorflow/tfjs-core';

export const HARD_SIGMOID = 'TorchportHardSigmoid';
export const HARD_SWISH = 'TorchportHardSwish';

/** The scalar definition, float32 at every step as in the vector kernels; `from`..end of x into y. */
export function hardActivation(x: Float32Array, y: Float32Array, from: number, swish: boolean): void {
  const f = Math.fround;
  for (let i = from; i < x.length; i++) {
    const s = f(Math.min(Math.max(f(x[i] + 3), 0), 6) / 6);
    y[i] = swish ? f(x[i] * s) : s;
  }
}

function cpuKernel(kernelName: string, swish: boolean): tf.KernelConfig {
  return {
    kernelName,
    backendName: 'cpu',
    kernelFunc: ({ inputs, backend }) => {
      const { x } = inputs as { x: tf.TensorInfo };
      const cpu = backend as tf.KernelBackend & { makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo };
      const values = cpu.readSync(x.dataId) as Float32Array;
      const out = new Float32Array(values.length);
      hardActivation(values, out, 0, swish);
      return cpu.makeTensorInfo(x.shape, 'float32', out);
    },
  };
}

/** d relu6(t) / dt as tfjs's Relu6 gradient computes it. */
const relu6Mask = (t: tf.Tensor) => tf.cast(tf.mul(tf.lessEqual(t, 6), tf.step(t)), 'float32');
/** The gradient through relu6(x + 3) / 6 of `dy`. */
const sigmoidGrad = (dy: tf.Tensor, x: tf.Tensor) => tf.mul(tf.div(dy, 6), relu6Mask(tf.add(x, 3)));

const registered = { done: false };
function register(): void {
  if (registered.done) return;
  registered.done = true;
  tf.registerKernel(cpuKernel(HARD_SIGMOID, false));
  tf.registerKernel(cpuKernel(HARD_SWISH, true));
  tf.registerGradient({ kernelName: HARD_SIGMOID, inputsToSave: ['x'], gradFunc: (dy, [x]) => ({ x: () => sigmoidGrad(dy as tf.Tensor, x) }) });
  tf.registerGradient({
    kernelName: HARD_SWISH,
    inputsToSave: ['x'],
    gradFunc: (dy, [x]) => ({ x: () => tf.add(tf.mul(dy as tf.Tensor, hardSigmoid(x)), sigmoidGrad(tf.mul(dy as tf.Tensor, x), x)) }),
  });
}

function run<T extends tf.Tensor>(kernelName: string, x: T, composite: () => T): T {
  register();
  if (x.dtype !== 'float32' || !tf.getKernel(kernelName, tf.getBackend())) return composite();
  return tf.engine().runKernel(kernelName, { x }) as T;
}

export function hardSigmoid<T extends tf.Tensor>(x: T): T {
  return run(HARD_SIGMOID, x, () => tf.div(tf.relu6(tf.add(x, 3)), 6));
}

export function hardSwish<T extends tf.Tensor>(x: T): T {
  return run(HARD_SWISH, x, () => tf.mul(x, hardSigmoid(x)));
}
