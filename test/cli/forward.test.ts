// `torchport forward` as a process: NCHW .npy in, features_<i>.npy (NCHW) and logits.npy out,
// matching PyTorch's outputs; both backends; bad input exits 2.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { decodeNpy, encodeNpy } from '../../src/checkpoint/npy.js';
import { relErr } from '../mapping/helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const torchport = (...args: string[]) => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'torchport.js'), ...args], { encoding: 'utf8', cwd: ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const tmp = mkdtempSync(join(tmpdir(), 'torchport-forward-cli-'));
const model = join(tmp, 'dli14_small');
before(() => {
  const r = torchport('convert', 'fixtures/mobilenetv3/dli14_small.pth', '--out', model);
  assert.equal(r.code, 0, r.stderr);
});
after(() => rmSync(tmp, { recursive: true, force: true }));

function fileErr(file: string, golden: string): number {
  const a = decodeNpy(readFileSync(file));
  const b = decodeNpy(readFileSync(golden));
  assert.deepEqual(a.shape, b.shape, file);
  return relErr(a.data as Float32Array, b.data as Float32Array);
}

for (const backend of ['wasm', 'cpu']) {
  test(`--backend ${backend}: the requested layers and the logits match PyTorch (odd input size 59x67)`, () => {
    const out = join(tmp, `out-${backend}`);
    const r = torchport('forward', model, '--input', 'fixtures/mobilenetv3/input.npy', '--out', out, '--out-indices', '3,9', '12', '--backend', backend);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `wrote features_3.npy [1, 8, 8, 9], features_9.npy [1, 16, 2, 3], features_12.npy [1, 96, 2, 3], logits.npy [1, 10] to ${out}/\n`);
    assert.deepEqual(readdirSync(out).sort(), ['features_12.npy', 'features_3.npy', 'features_9.npy', 'logits.npy']);
    for (const f of ['features_3', 'features_9', 'features_12', 'logits']) {
      const err = fileErr(join(out, `${f}.npy`), `fixtures/mobilenetv3/dli14_small/${f}.npy`);
      assert.ok(err <= 1e-4, `${f}: ${err}`);
    }
  });
}

test('every feature layer by default; any input size', () => {
  const input = join(tmp, 'tiny.npy');
  writeFileSync(input, encodeNpy({ dtype: 'float32', shape: [2, 3, 33, 20], data: new Float32Array(2 * 3 * 33 * 20).fill(0.25) }));
  const out = join(tmp, 'out-all');
  const r = torchport('forward', model, '--input', input, '--out', out);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readdirSync(out).length, 14);
  assert.deepEqual(decodeNpy(readFileSync(join(out, 'features_0.npy'))).shape, [2, 8, 17, 10]);
  assert.deepEqual(decodeNpy(readFileSync(join(out, 'features_12.npy'))).shape, [2, 96, 2, 1]);
});

test('bad input: exit 2, one line', () => {
  const nhwc = join(tmp, 'nhwc.npy');
  writeFileSync(nhwc, encodeNpy({ dtype: 'float32', shape: [1, 8, 8, 3], data: new Float32Array(192) }));
  const cases: Array<[string[], string]> = [
    [['forward', model, '--input', nhwc, '--out', join(tmp, 'x')], `torchport: ${nhwc}: expected an NCHW input [N, 3, H, W], got [1, 8, 8, 3]\n`],
    [['forward', model, '--input', 'nope.npy', '--out', join(tmp, 'x')], 'torchport: nope.npy: no such file\n'],
    [['forward', model, '--input', 'fixtures/mobilenetv3/dli14_small.pth', '--out', join(tmp, 'x')], 'torchport: fixtures/mobilenetv3/dli14_small.pth: not a .npy file (bad magic)\n'],
    [['forward', tmp, '--input', 'fixtures/mobilenetv3/input.npy', '--out', join(tmp, 'x')], `torchport: ${tmp}: no model.json here (is this a folder written by \`torchport convert\`?)\n`],
    [['forward', model, '--input', 'fixtures/mobilenetv3/input.npy', '--out', join(tmp, 'x'), '--out-indices', '13'], 'torchport: mobilenetv3_small: outIndices entry 13 is out of range (feature layers are 0..12)\n'],
  ];
  for (const [args, message] of cases) {
    const r = torchport(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr, message);
  }
});

test('a model converted with --allow-missing runs, and forward says which parameters were initialised', () => {
  const partial = join(tmp, 'partial');
  assert.equal(torchport('convert', 'fixtures/mapping/tv_small_missing_block5.pth', '--out', partial, '--allow-missing').code, 0);
  const r = torchport('forward', partial, '--input', 'fixtures/mobilenetv3/input.npy', '--out', join(tmp, 'out-partial'), '--out-indices', '4');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, 'note: 19 parameters were not in the checkpoint (converted with --allow-missing) and are freshly initialised\n');
  // Block 5 comes after layer 4: its output is still PyTorch's.
  assert.ok(fileErr(join(tmp, 'out-partial', 'features_4.npy'), 'fixtures/mobilenetv3/tv_small/features_4.npy') <= 1e-4);
});
