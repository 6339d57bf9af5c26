// A fully connected layer, y = x @ kernel + bias, with the kernel in TF.js layout [in, out]
// (a PyTorch Linear weight [out, in] transposed once at conversion). x may have any leading
// dimensions: [..., in] -> [..., out].
// The gradient uses explicit transposes: tfjs's stock matMul gradient asks for transposed
// operands, which wasm runs 10-50x slower (registerWasmKernels also patches that, but this op
// stays fast on any backend).
import * as tf from '@tensorflow/tfjs-core';

function flatten(x: tf.Tensor, inFeatures: number): tf.Tensor2D {
  return x.rank === 2 ? (x as tf.Tensor2D) : tf.reshape(x, [-1, inFeatures]);
}

function checkShapes(x: tf.Tensor, kernel: tf.Tensor, bias?: tf.Tensor): void {
  if (kernel.rank !== 2) throw new Error(`dense: kernel must be [in, out], got [${kernel.shape}]`);
  if (x.shape[x.rank - 1] !== kernel.shape[0]) {
    throw new Error(`dense: input [${x.shape}] has ${x.shape[x.rank - 1]} features, kernel [${kernel.shape}] expects ${kernel.shape[0]}`);
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== kernel.shape[1])) {
    throw new Error(`dense: bias must be [${kernel.shape[1]}], got [${bias.shape}]`);
  }
}

function denseGrad(withBias: boolean) {
  return tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const x = args[0] as tf.Tensor;
    const kernel = args[1] as tf.Tensor2D;
    const bias = withBias ? (args[2] as tf.Tensor1D) : undefined;
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const [inF, outF] = kernel.shape;
    const x2 = flatten(x, inF);
    save([x2, kernel]);
    const y = bias ? tf.add(tf.matMul(x2, kernel), bias) : tf.matMul(x2, kernel);
    return {
      value: tf.reshape(y, [...x.shape.slice(0, -1), outF]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, k] = saved as [tf.Tensor2D, tf.Tensor2D];
        const dy2 = tf.reshape(dy, [-1, outF]) as tf.Tensor2D;
        const dx = tf.reshape(tf.matMul(dy2, tf.transpose(k)), x.shape);
        const dk = tf.matMul(tf.transpose(xs), dy2);
        return bias ? [dx, dk, tf.sum(dy2, 0)] : [dx, dk];
      },
    };
  });
}

const denseWithBias = denseGrad(true);
const denseNoBias = denseGrad(false);

/** y = x @ kernel (+ bias). x: [..., in], kernel: [in, out], bias: [out]. */
export function dense(x: tf.Tensor, kernel: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor {
  checkShapes(x, kernel, bias);
  return bias ? denseWithBias(x, kernel, bias) : denseNoBias(x, kernel);
}
