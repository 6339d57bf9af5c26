import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arr, bool, checkSchema, int, literal, num, obj, optional, str, tuple, union } from '../../src/schema.js';

const schema = obj({
  size: int({ min: 1 }),
  ratios: arr(num({ min: 0, exclusiveMin: true }), { minItems: 1 }),
  mean: tuple(num(), num(), num()),
  channels: optional(union(literal('auto'), arr(int({ min: 1 })))),
  names: optional(arr(str({ nonEmpty: true }))),
  flag: optional(bool()),
});

test('a valid object has no problems', () => {
  assert.deepEqual(checkSchema({ size: 3, ratios: [0.5, 1], mean: [0, 0, 0], channels: 'auto' }, schema), []);
  assert.deepEqual(checkSchema({ size: 3, ratios: [1], mean: [0, 0, 0], channels: [8, 16] }, schema), []);
});

test('every problem is reported with its path and what is allowed', () => {
  const problems = checkSchema({ size: 0, ratios: [], mean: [0, 0], channels: 'all', names: [''], flg: true, extra: 1 }, schema, 'cfg');
  assert.deepEqual(problems.map((p) => `${p.path}: ${p.message}`), [
    'cfg.size: expected an integer >= 1, got 0',
    'cfg.ratios: expected at least 1 item(s), got 0',
    'cfg.mean: expected a list of 3: [a number, a number, a number], got a list of 2',
    'cfg.channels: expected one of "auto", or a list of integers >= 1, got "all"',
    'cfg.names.0: expected a non-empty string, got ""',
    "cfg.flg: unknown key (did you mean 'flag'?); allowed: size, ratios, mean, channels, names, flag",
    'cfg.extra: unknown key; allowed: size, ratios, mean, channels, names, flag',
  ]);
});

test('missing required keys and wrong container types', () => {
  assert.deepEqual(checkSchema({}, obj({ a: int() })), [{ path: 'a', message: 'is required: an integer' }]);
  assert.deepEqual(checkSchema([1], obj({ a: int() }), 'x'), [{ path: 'x', message: 'expected an object with keys a, got a list of 1' }]);
  assert.deepEqual(checkSchema(Number.NaN, num(), 'n'), [{ path: 'n', message: 'expected a number, got NaN' }]);
});
