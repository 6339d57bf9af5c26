// Key grouping and totals behind `inspect`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { groupKeys, summarise } from '../../src/checkpoint/summary.js';
import type { StateDict } from '../../src/checkpoint/types.js';

test('numbered keys collapse on their first number (torchvision mobilenet_v3_large layout)', () => {
  const keys = ['features.0.0.weight', 'features.0.1.weight', 'features.0.1.bias'];
  for (let i = 1; i <= 15; i++) keys.push(`features.${i}.block.0.0.weight`, `features.${i}.block.0.1.running_var`);
  keys.push('features.16.0.weight', 'features.16.1.bias', 'classifier.0.weight', 'classifier.0.bias', 'classifier.3.weight', 'fc.weight');
  assert.deepEqual(groupKeys(keys).map((g) => [g.pattern, g.keys.length]), [
    ['features.{0,16}.0.*', 2],
    ['features.{0,16}.1.*', 3],
    ['features.{1..15}.block.*', 30],
    ['classifier.{0,3}.*', 3],
    ['fc.weight', 1],
  ]);
  assert.deepEqual(groupKeys(['layer1.0.conv1.weight', 'layer1.2.conv1.weight', 'layer1.5.conv1.weight']).map((g) => g.pattern),
    ['layer1.{0,2,5}.conv1.*']);
  assert.deepEqual(groupKeys(['a.3.weight']).map((g) => g.pattern), ['a.3.weight']);
});

test('totals count elements and bytes per dtype', () => {
  const sd: StateDict = new Map([
    ['w', { dtype: 'float32', shape: [2, 3], data: new Float32Array(6) }],
    ['h', { dtype: 'bfloat16', shape: [4], data: new Uint16Array(4) }],
    ['n', { dtype: 'int64', shape: [], data: new BigInt64Array(1) }],
  ]);
  assert.deepEqual(summarise(sd), {
    tensors: 3, parameters: 11, bytes: 40,
    byDtype: { float32: { tensors: 1, numel: 6, bytes: 24 }, bfloat16: { tensors: 1, numel: 4, bytes: 8 }, int64: { tensors: 1, numel: 1, bytes: 8 } },
  });
});
