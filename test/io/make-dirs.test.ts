// makeDirs: mkdir -p that refuses where a folder cannot be made, instead of looping (Node's
// recursive mkdirSync spins forever on a path inside /proc).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeDirs } from '../../src/io/make-dirs.js';

test('makeDirs creates missing parents, accepts an existing folder and refuses a file or an impossible parent', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'torchport-dirs-'));
  try {
    makeDirs(join(tmp, 'a', 'b', 'c'));
    assert.ok(statSync(join(tmp, 'a', 'b', 'c')).isDirectory());
    makeDirs(join(tmp, 'a', 'b'));
    writeFileSync(join(tmp, 'f'), '');
    assert.throws(() => makeDirs(join(tmp, 'f')), { code: 'EEXIST', path: join(tmp, 'f') });
    assert.throws(() => makeDirs(join(tmp, 'f', 'g')), { code: 'ENOTDIR' });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('makeDirs refuses a folder inside /proc at once (Node\'s recursive mkdir loops there)', { skip: existsSync('/proc/self') ? false : 'no /proc on this system' }, () => {
  assert.throws(() => makeDirs('/proc/torchport-no-such/x'), { code: 'ENOENT', path: '/proc/torchport-no-such' });
});
