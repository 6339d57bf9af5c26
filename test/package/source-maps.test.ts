// Under --verbose, the CLI's stack traces name the TypeScript sources, not the bundle's chunks
// (scripts/bundle-cli.mjs writes source maps; bin/torchport.js turns them on for --verbose).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const ROOT = resolve(import.meta.dirname, '../..');

test('a --verbose stack trace points at src/**/*.ts lines that throw', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/torchport.js'), 'inspect', join(ROOT, 'no-such-checkpoint.pth'), '--verbose'], { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  const frames = [...r.stderr.matchAll(/^\s+at .*?\(?(\/[^():]+):(\d+):\d+\)?$/gm)].map((m) => ({ file: m[1], line: Number(m[2]) }));
  const own = frames.filter((f) => !f.file.includes('/node_modules/'));
  assert.ok(own.length >= 2, r.stderr);
  for (const f of own) assert.match(f.file, new RegExp(`^${ROOT}/src/.+\\.ts$`), r.stderr);
  // The innermost frame is the line that throws the error.
  assert.match(readFileSync(own[0].file, 'utf8').split('\n')[own[0].line - 1], /throw /, `${own[0].file}:${own[0].line}`);
});

test('without --verbose, no stack trace', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/torchport.js'), 'inspect', join(ROOT, 'no-such-checkpoint.pth')], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.doesNotMatch(r.stderr, /^\s+at /m);
});
