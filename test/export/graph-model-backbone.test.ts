// Backbones and classifiers as GraphModels (plain tfjs-converter at run time): the requested
// feature layers and the logits equal PyTorch's (fixtures/mobilenetv3, both source families,
// odd input size 59x67), with the input convention written into the folder.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import { exportGraphModel } from '../../src/export/graph-model/index.js';
import { decodeNpy } from '../../src/checkpoint/npy.js';
import { convertCheckpoint } from '../../src/models/convert.js';
import { relErr } from '../mapping/helpers.js';
import { loadFolder } from './graph-model-helpers.js';

const FIX = join(import.meta.dirname, '../../fixtures/mobilenetv3');
const work = mkdtempSync(join(tmpdir(), 'torchport-graph-backbone-'));
const npy = (file: string) => decodeNpy(readFileSync(file));

before(() => selectBackend('wasm'));
after(() => rmSync(work, { recursive: true, force: true }));

for (const name of ['dli14_small', 'tv_small']) {
  test(`${name}: features_3, features_9, features_12 and logits equal PyTorch's`, async () => {
    const dir = join(work, name);
    assert.ok((await convertCheckpoint(join(FIX, `${name}.pth`), dir)).written);
    const out = join(work, `${name}-graph`);
    const result = await exportGraphModel(dir, out, { outIndices: [3, 9, 12] });
    assert.equal(result.kind, 'backbone');
    const json = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    assert.match(json.userDefinedMetadata.input, /^image: float32 \[N, H, W, 3\], NHWC, RGB, normalised as the source model expects/);
    const model = await loadFolder(out);
    assert.deepEqual(model.outputs.map((o) => o.name), ['features_3', 'features_9', 'features_12', 'logits']);
    const input = npy(join(FIX, 'input.npy'));
    const x = tf.tidy(() => tf.transpose(tf.tensor4d(input.data as Float32Array, input.shape as [number, number, number, number]), [0, 2, 3, 1]));
    const outs = (await model.executeAsync(x)) as tf.Tensor[];
    model.outputs.forEach((o, k) => {
      const golden = npy(join(FIX, name, `${o.name}.npy`));
      const y = o.name === 'logits' ? outs[k] : tf.transpose(outs[k], [0, 3, 1, 2]);
      assert.deepEqual(y.shape, golden.shape, o.name);
      const err = relErr(y.dataSync(), golden.data as Float32Array);
      assert.ok(err <= 1e-4, `${o.name}: relative error ${err}`);
    });
    tf.dispose([x, ...outs]);
    model.dispose();
  });
}

test('a feature layer the backbone does not have is bad input', async () => {
  await assert.rejects(exportGraphModel(join(work, 'tv_small'), join(work, 'bad'), { outIndices: [40] }), /40/);
});
