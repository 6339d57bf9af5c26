// package.json says what the package needs, and the tracked files hold no machine's paths.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import * as zlib from 'node:zlib';

const ROOT = resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

test('@tensorflow/* are pinned to the exact versions installed (torchport relies on their internals)', () => {
  const specs = Object.entries({ ...pkg.dependencies, ...pkg.devDependencies, ...pkg.optionalDependencies }).filter(([name]) => name.startsWith('@tensorflow/'));
  assert.ok(specs.length >= 4);
  for (const [name, spec] of specs) assert.match(String(spec), /^\d+\.\d+\.\d+$/, `${name}@${spec}`);
  for (const [name, spec] of specs.filter(([name]) => pkg.dependencies[name])) {
    assert.equal(JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version, spec, name);
  }
});

test('engines names the Node that has what torchport uses, and tsx is for development only', () => {
  assert.equal(pkg.engines.node, '>=20.15'); // zlib.crc32 came in 20.15, module.register in 20.6
  assert.equal(typeof (zlib as { crc32?: unknown }).crc32, 'function');
  assert.equal(pkg.dependencies.tsx, undefined);
  assert.ok(pkg.devDependencies.tsx);
});

test('no tracked file names a path of this machine', () => {
  // An absolute path into one of these machine folders (a relative path ending in one is fine).
  const absolute = `(^|[^[:alnum:]_.~-])/(${['work', 'root', 'home'].join('|')})/`;
  const r = spawnSync('git', ['grep', '-n', '-I', '-E', absolute, '--', '.'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 1, r.stdout || r.stderr); // git grep: 1 = nothing found

});
