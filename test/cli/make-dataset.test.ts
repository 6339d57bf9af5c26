// `torchport make-dataset shapes` as a process (run `npm run build` first; `npm test` does).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseCocoJson } from '../../src/data/coco.js';

const ROOT = join(import.meta.dirname, '..', '..');

function torchport(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'torchport.js'), ...args], { encoding: 'utf8', cwd: ROOT, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('writes a COCO layout, deterministic by seed', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'torchport-shapes-'));
  try {
    const a = join(tmp, 'a');
    const b = join(tmp, 'b');
    const r = torchport('make-dataset', 'shapes', '--out', a, '--train', '6', '--val', '3', '--size', '64', '--seed', '7');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^wrote .*: 6 train \+ 3 val images \(64x64\), \d+ objects in 3 categories/);
    assert.deepEqual(readdirSync(a).sort(), ['annotations', 'train', 'val']);
    assert.deepEqual(readdirSync(join(a, 'annotations')).sort(), ['instances_train.json', 'instances_val.json']);
    const train = parseCocoJson(readFileSync(join(a, 'annotations', 'instances_train.json'), 'utf8'), 'train');
    assert.equal(train.images.length, 6);
    assert.deepEqual(train.categories.map((c) => c.name), ['rectangle', 'ellipse', 'triangle']);
    for (const im of train.images) assert.ok(existsSync(join(a, 'train', im.file_name)));
    assert.equal(torchport('make-dataset', 'shapes', '--out', b, '--train', '6', '--val', '3', '--size', '64', '--seed', '7').code, 0);
    for (const f of ['annotations/instances_train.json', 'annotations/instances_val.json', 'train/000001.png', 'val/000003.png']) {
      assert.deepEqual(readFileSync(join(a, f)), readFileSync(join(b, f)), f);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('bad arguments: exit 2, one line, nothing written', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'torchport-shapes-'));
  try {
    const out = join(tmp, 'x');
    const r = torchport('make-dataset', 'shapes', '--out', out, '--train', '0');
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'torchport: --train must be an integer from 1 to 100000, got 0\n');
    assert.equal(existsSync(out), false);
    const k = torchport('make-dataset', 'circles', '--out', out);
    assert.equal(k.code, 2);
    assert.equal(k.stderr, 'torchport: <kind> must be one of shapes, got "circles"\nusage: torchport make-dataset <kind> --out <out> [options]; see torchport make-dataset --help\n');
    if (existsSync('/proc/self')) {
      // A folder that cannot be made: refused at once (it used to hang).
      const p = torchport('make-dataset', 'shapes', '--out', '/proc/torchport-no-such/shapes', '--train', '1', '--val', '1');
      assert.deepEqual([p.code, p.stderr], [2, 'torchport: /proc/torchport-no-such: no such file or folder\n']);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
