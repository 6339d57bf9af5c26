// --npy file names: any key becomes one safe file name inside the output directory.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { npyFileName } from '../../src/checkpoint/npy-export.js';

test('keys map to file names without path separators', () => {
  assert.equal(npyFileName('features.0.0.weight'), 'features.0.0.weight.npy');
  assert.equal(npyFileName('../etc/passwd'), '..%2Fetc%2Fpasswd.npy');
  assert.equal(npyFileName('a\\b%c\n'), 'a%5Cb%25c%0A.npy');
  assert.equal(npyFileName('..'), '%...npy');
  assert.equal(npyFileName(''), '%.npy');
});
