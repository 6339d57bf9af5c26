// `torchport features` as a process: the layer table, proposed FPN taps, --out-indices, exit codes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..');
const torchport = (...args: string[]) => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'torchport.js'), ...args], { encoding: 'utf8', cwd: ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

test('the write-up\'s [2,5,9,14]: the inChannels they picked by hand, and the deeper taps proposed', () => {
  const r = torchport('features', '--model', 'mobilenetv3_large', '--out-indices', '2,5,9,14');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 25);
  assert.equal(lines[4], '    2       4        24');
  assert.equal(lines[5], '    3       4        24  ← last of stride 4');
  assert.equal(lines[18], '   16      32       960  ← last of stride 32');
  assert.deepEqual(lines.slice(19), [
    'proposed for an FPN (last layer of each stride 4..32): outIndices [3, 6, 12, 16] → inChannels [24, 40, 112, 960] (strides 4, 8, 16, 32)',
    'your outIndices [2, 5, 9, 14] → inChannels [24, 40, 80, 160] (strides 4, 8, 16, 32)',
    '  note: layer 2 is not the last layer of stride 4 (that is 3, 24 channels)',
    '  note: layer 5 is not the last layer of stride 8 (that is 6, 40 channels)',
    '  note: layer 9 is not the last layer of stride 16 (that is 12, 112 channels)',
    '  note: layer 14 is not the last layer of stride 32 (that is 16, 960 channels)',
  ]);
});

test('--json, model options, warnings for FPN-unfriendly taps', () => {
  const r = torchport('features', '--model', 'mobilenetv3_small', '--set', 'widthMult=0.5', '--out-indices', '1', '12', '11', '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.layers.length, 13);
  assert.deepEqual(j.layers[12], { index: 12, stride: 32, channels: 288, lastOfStride: true });
  assert.deepEqual(j.proposed.outIndices, [1, 3, 8, 12]);
  assert.deepEqual(j.chosen.inChannels, [8, 288, 48]);
  assert.deepEqual(j.chosen.warnings, [
    'no level between stride 4 and 32: an FPN level is skipped',
    'layers 12 and 11 both have stride 32: an FPN expects one level per stride',
  ]);
  assert.deepEqual(j.chosen.notes, ['layer 11 is not the last layer of stride 32 (that is 12, 288 channels)']);
});

test('bad input exits 2 with one line', () => {
  for (const [args, message] of [
    [['--model', 'mobilenetv3_large', '--out-indices', '17'], 'torchport: out index 17 is out of range (feature layers are 0..16)\n'],
    [['--model', 'mobilenetv3_large', '--out-indices', '3,3'], 'torchport: out index 3 is listed twice\n'],
    [['--model', 'mobilenetv3_large', '--out-indices', 'x'], "torchport: --out-indices expects integers, got 'x'\n"],
    [['--model', 'mobilenetv3_large', '--set', 'widthMult=-1'], 'torchport: mobilenetv3_large: widthMult must be a positive number, got -1\n'],
  ] as Array<[string[], string]>) {
    const r = torchport('features', ...args);
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.stderr, message);
    assert.equal(r.stdout, '');
  }
});
