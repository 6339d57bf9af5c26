// TF.js weights format: model.json + group1-shardNofM.bin, offsets implicit, tensors may span shards.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { InputError } from '../../src/errors.js';
import { readTfjsWeights, writeTfjsWeights, writeTfjsWeightSources } from '../../src/io/tfjs-weights.js';

const root = mkdtempSync(join(tmpdir(), 'torchport-tfjsw-'));
after(() => rmSync(root, { recursive: true, force: true }));

const weights = [
  { name: 'a', shape: [3, 5], data: Float32Array.from({ length: 15 }, (_, i) => i + 0.5) },
  { name: 'b', shape: [7], data: Float32Array.from({ length: 7 }, (_, i) => -i) },
  { name: 'c', shape: [2, 2, 2], data: Float32Array.from({ length: 8 }, (_, i) => i * 1e-3) },
];
const meta = { format: 'torchport-weights', generatedBy: 'test', convertedBy: 'test', userDefinedMetadata: { x: 1 } };

function dirWith(shardBytes: number): string {
  const dir = mkdtempSync(join(root, 'w-'));
  writeTfjsWeights(dir, weights, meta, shardBytes);
  return dir;
}

test('weight sources are asked for their values one at a time, after the weights before them are on disk', async () => {
  const dir = mkdtempSync(join(root, 's-'));
  const asked: string[] = [];
  const onDisk = () => readdirSync(dir).filter((f) => f.endsWith('.bin')).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
  const sources = weights.map((w, i) => ({
    name: w.name,
    shape: w.shape,
    values: async () => {
      asked.push(w.name);
      assert.equal(onDisk(), weights.slice(0, i).reduce((n, x) => n + x.data.byteLength, 0), `before '${w.name}': the earlier weights written`);
      return w.data;
    },
  }));
  const json = await writeTfjsWeightSources(dir, sources, meta, 40);
  assert.deepEqual(asked, ['a', 'b', 'c']);
  assert.deepEqual(json.weightsManifest, JSON.parse(readFileSync(join(dirWith(40), 'model.json'), 'utf8')).weightsManifest);
  assert.deepEqual(readTfjsWeights(dir).weights, weights);
});

test('shards are cut at the byte limit, across tensors, and read back exactly', () => {
  const dir = dirWith(40); // 120 bytes in all
  assert.deepEqual(readdirSync(dir).sort(), ['group1-shard1of3.bin', 'group1-shard2of3.bin', 'group1-shard3of3.bin', 'model.json']);
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.bin')).sort().map((f) => statSync(join(dir, f)).size), [40, 40, 40]);
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  assert.deepEqual(json.weightsManifest, [{
    paths: ['group1-shard1of3.bin', 'group1-shard2of3.bin', 'group1-shard3of3.bin'],
    weights: [{ name: 'a', shape: [3, 5], dtype: 'float32' }, { name: 'b', shape: [7], dtype: 'float32' }, { name: 'c', shape: [2, 2, 2], dtype: 'float32' }],
  }]);
  assert.equal(json.modelTopology, null);
  const back = readTfjsWeights(dir);
  assert.deepEqual(back.weights, weights);
  assert.deepEqual(back.modelJson.userDefinedMetadata, { x: 1 });
});

test("TF.js's own decodeWeights reads what we wrote", () => {
  const dir = dirWith(4 * 1024 * 1024);
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const buf = readFileSync(join(dir, 'group1-shard1of1.bin'));
  const decoded = tf.io.decodeWeights(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength), json.weightsManifest[0].weights);
  for (const w of weights) assert.deepEqual(decoded[w.name].dataSync(), w.data);
  tf.dispose(Object.values(decoded));
});

test('a missing or truncated shard, or bad JSON, is an InputError naming the problem', () => {
  const missing = dirWith(40);
  unlinkSync(join(missing, 'group1-shard2of3.bin'));
  assert.throws(() => readTfjsWeights(missing), (e: Error) => e instanceof InputError && e.message === `${missing}: shard 'group1-shard2of3.bin' listed in model.json is missing`);
  const short = dirWith(40);
  truncateSync(join(short, 'group1-shard3of3.bin'), 30);
  assert.throws(() => readTfjsWeights(short), (e: Error) => e instanceof InputError && e.message === `${short}: the shards hold 110 bytes, fewer than the weights listed need (truncated at 'c')`);
  const bad = dirWith(40);
  writeFileSync(join(bad, 'model.json'), '{');
  assert.throws(() => readTfjsWeights(bad), (e: Error) => e instanceof InputError && e.message.startsWith(`${join(bad, 'model.json')}: not valid JSON`));
  assert.throws(() => readTfjsWeights(root), (e: Error) => e instanceof InputError && e.message === `${root}: no model.json here (is this a folder written by \`torchport convert\`?)`);
});
