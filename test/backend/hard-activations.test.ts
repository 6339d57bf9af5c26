// torchport's hard-sigmoid and hard-swish kernels (src/backend/ops/hard-activations.ts; a SIMD
// pass on wasm, a loop on cpu) give bit for bit what tfjs's add/relu6/div/mul compose, values and
// gradients, on both backends, including the kinks at -3 and 3 and sizes that are not a multiple
// of the SIMD width.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { HARD_SIGMOID, HARD_SWISH, hardSigmoid, hardSwish } from '../../src/backend/ops/hard-activations.js';
import { simdCallsTo } from '../../src/backend/simd/relaxed-simd.js';
import { onBackend, randomValues, rng } from './helpers.js';

const composedSigmoid = (x: tf.Tensor) => tf.div(tf.relu6(tf.add(x, 3)), 6);
const composedSwish = (x: tf.Tensor) => tf.mul(x, composedSigmoid(x));

test('hard-sigmoid and hard-swish kernels equal the composed ops exactly, values and gradients, on wasm and cpu', async () => {
  const rand = rng(91);
  const values = Float32Array.from([...randomValues(rand, 1021)].map((v) => v * 8).concat([-3, 3, 0, -0, -3.0000002, 2.9999998, 6, -6, 1e-30]));
  for (const backend of ['wasm', 'cpu'] as const) {
    const pairs: Array<[string, (x: tf.Tensor) => tf.Tensor, (x: tf.Tensor) => tf.Tensor]> = [['hardSigmoid', hardSigmoid, composedSigmoid], ['hardSwish', hardSwish, composedSwish]];
    for (const [name, kernel, composed] of pairs) {
      const dy = randomValues(rand, values.length);
      const run = (f: (x: tf.Tensor) => tf.Tensor) => () => {
        const x = tf.tensor1d(values);
        return [f(x), tf.grad((t: tf.Tensor) => f(t))(x, tf.tensor1d(dy))];
      };
      const calls = simdCallsTo(name);
      const [y, dx] = await onBackend(backend, run(kernel));
      // on wasm the SIMD pass ran (for the values; the gradients are composed ops)
      assert.equal(simdCallsTo(name) > calls, backend === 'wasm', `${name}: SIMD pass on ${backend}`);
      const [yWant, dxWant] = await onBackend(backend, run(composed));
      assert.deepEqual([...y], [...yWant], `${name} values on ${backend}`);
      assert.deepEqual([...dx], [...dxWant], `${name} gradients on ${backend}`);
    }
    // the comparison above is kernel against ops only if the kernels ran
    for (const kernel of [HARD_SIGMOID, HARD_SWISH]) assert.ok(tf.getKernel(kernel, backend), `${kernel} registered for ${backend}`);
  }
});
