// FPN against torchvision's FeaturePyramidNetwork on inputs whose sizes are not exact multiples
// of 2 (nearest top-down resize), with the max-pool level, and with torchvision's LastLevelP6P7,
// which computes mmdetection's add_extra_convs 'on_input' (from C5) / 'on_output' (from P5) with
// relu_before_extra_convs (stride-2 convs padded 1 on every side, as PyTorch pads).
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../../src/backend/select.js';
import type { FPNExtra } from '../../../src/models/faster-rcnn/config.js';
import type { WeightMap } from '../../../src/models/layers/weights.js';
import { createFPN } from '../../../src/models/necks/fpn.js';
import { assertClose, json } from './helpers.js';

const u = json('units.json').fpn;

before(async () => {
  await selectBackend('wasm');
});

/** torchvision FPN state dict → our names, conv kernels OIHW → HWIO. */
function toWeights(sd: Record<string, { shape: number[]; data: number[] }>): WeightMap {
  const names: Record<string, string> = { inner_blocks: 'lateral', layer_blocks: 'output' };
  const out: WeightMap = {};
  for (const [key, { shape, data }] of Object.entries(sd)) {
    const m = /^(inner_blocks|layer_blocks)\.(\d+)\.0\.(weight|bias)$/.exec(key) ?? /^extra_blocks\.(p6|p7)\.(weight|bias)$/.exec(key);
    assert.ok(m, key);
    const name = m.length === 4 ? `${names[m[1]]}.${m[2]}.${m[3]}` : `extra.${m[1] === 'p6' ? 0 : 1}.${m[2]}`;
    const t = tf.tensor(data, shape);
    out[name] = shape.length === 4 ? tf.transpose(t, [2, 3, 1, 0]) : t;
  }
  return out;
}

for (const [name, extra] of [['pool', 'pool'], ['on_input', 'on_input'], ['on_output', 'on_output']] as Array<[string, FPNExtra]>) {
  test(`FPN with extra '${name}' equals torchvision`, () => {
    const c = u.cases[name];
    const numOuts = c.outputShapes.length;
    const fpn = createFPN({ type: 'FPN', inChannels: [4, 8, 16], outChannels: 6, numOuts, extra, reluBeforeExtraConvs: extra !== 'pool' }, [4, 8, 16]);
    const weights = toWeights(c.weights);
    assert.deepEqual(fpn.specs.map((s) => s.name).sort(), Object.keys(weights).sort());
    const inputs = u.inputs.map((d: number[], i: number) => tf.tensor4d(d, u.inputShapes[i]));
    const outs = fpn.forward(weights, inputs);
    assert.equal(outs.length, numOuts);
    outs.forEach((o, i) => {
      assert.deepEqual(o.shape, c.outputShapes[i]);
      assertClose(o.dataSync(), c.outputs[i], 1e-4, `level ${i}`);
    });
  });
}
