// `torchport diff` as a process: exit codes (0 all loaded, 1 missing/mismatched, 2 bad input),
// --json, --all, --mapping by name and by file, and no TF.js import.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..');
const FORBID_TFJS = join(import.meta.dirname, 'fixtures', 'forbid-tfjs.mjs');
const torchport = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['--import', FORBID_TFJS, join(ROOT, 'bin', 'torchport.js'), ...args], { encoding: 'utf8', cwd: ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const KNOWN_OPTIONS = 'widthMult, family, bnEps, bnMomentum, dropout, outIndices, numClasses, frozenStages, normEval, backbone, classNames, fpnChannels, representationSize, classLayout';
const tmp = mkdtempSync(join(tmpdir(), 'torchport-diff-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('a complete checkpoint: exit 0, grouped report, never loads TF.js', () => {
  const r = torchport('diff', 'fixtures/mobilenetv3/dli14_large.pth');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.ok(lines.includes('mapping: dli14-mobilenetv3 → mobilenetv3_large family=dli14 bnEps=0.00001 numClasses=10 widthMult=0.15'), r.stdout);
  assert.ok(lines.includes("summary: 266 matched, 0 missing, 0 unexpected, 0 shape mismatches, 46 ignored; loaded 100.0% of the model's parameters (295,530 of 295,530)"), r.stdout);
  assert.ok(lines.includes('  features.{2..15}.dw.bn.{weight,bias,running_mean,running_var} ← features.{2..15}.conv.4.* [dli14-mobilenetv3/expanded-block]'), r.stdout);
  assert.ok(lines.length < 40, 'grouped');
});

test('--all lists one line per key; --json is the full report', () => {
  const all = torchport('diff', 'fixtures/mobilenetv3/tv_small.pth', '--all');
  assert.equal(all.code, 0, all.stderr);
  assert.ok(all.stdout.includes('\n  features.4.expand.conv.weight [1, 1, 8, 24] ← features.4.block.0.0.weight [24, 8, 1, 1] [torchvision-mobilenetv3/expand]\n'), all.stdout);
  const j = torchport('diff', 'fixtures/mobilenetv3/tv_small.pth', '--json');
  assert.equal(j.code, 0, j.stderr);
  const report = JSON.parse(j.stdout);
  assert.deepEqual(Object.keys(report), ['schemaVersion', 'checkpoint', 'notes', 'mapping', 'model', 'candidates', 'summary', 'matched', 'missing', 'unexpected', 'shapeMismatch', 'ignored', 'conflicts', 'unusedRules', 'suggestions']);
  assert.equal(report.matched.length, 210);
  assert.deepEqual(report.matched[0], {
    source: 'features.0.0.weight', target: 'features.0.conv.weight', rule: 'torchvision-mobilenetv3/stem-and-last-conv',
    kind: 'conv2d', sourceShape: [8, 3, 3, 3], dtype: 'float32', shape: [3, 3, 3, 8],
  });
  assert.equal(report.summary.complete, true);
});

test("a legacy-format file wrapped in 'model' with DataParallel's 'module.': unwrapped, and the report says so", () => {
  const r = torchport('diff', 'fixtures/mobilenetv3/tv_large_legacy.pth', '--json');
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.ok(report.notes.includes("stripped 'module.' from all 312 keys (DataParallel)"), report.notes.join('; '));
  assert.equal(report.summary.matched, 266);
});

test('missing block and wrong architecture: exit 1', () => {
  const missing = torchport('diff', 'fixtures/mapping/tv_small_missing_block5.pth', '--json');
  assert.equal(missing.code, 1);
  assert.equal(JSON.parse(missing.stdout).summary.missing, 19);
  const resnet = torchport('diff', 'fixtures/mapping/resnet18_keys.pth', '--model', 'mobilenetv3_small');
  assert.equal(resnet.code, 1);
  assert.ok(resnet.stdout.includes('\nnote: almost nothing loaded — this checkpoint does not look like a mobilenetv3_small in any known layout'), resnet.stdout);
});

test('--mapping forces a layout by name or file; a wrong one shows why nothing matched', () => {
  const forced = torchport('diff', 'fixtures/mobilenetv3/tv_small.pth', '--mapping', 'dli14-mobilenetv3', '--model', 'mobilenetv3_small', '--json');
  assert.equal(forced.code, 1);
  const r = JSON.parse(forced.stdout);
  assert.equal(r.mapping.forced, true);
  assert.equal(r.mapping.name, 'dli14-mobilenetv3');
  // Only the stem (features.0.{0,1}) and the classifier's last bias have the same names in both layouts.
  assert.deepEqual(r.matched.map((m: { source: string }) => m.source), [
    'features.0.0.weight', 'features.0.1.weight', 'features.0.1.bias', 'features.0.1.running_mean', 'features.0.1.running_var', 'classifier.3.bias',
  ]);
  const file = join(tmp, 'mine.json');
  writeFileSync(file, JSON.stringify({ model: 'mobilenetv3_small', include: [{ mapping: 'torchvision-mobilenetv3' }] }));
  const mine = torchport('diff', 'fixtures/mobilenetv3/tv_small.pth', '--mapping', file);
  assert.equal(mine.code, 0, mine.stderr);
  assert.ok(mine.stdout.startsWith('mapping: mine (forced) → mobilenetv3_small '), mine.stdout);
});

test('bad input: exit 2, one line on stderr', () => {
  const cases: Array<[string[], string]> = [
    [['diff', 'no/such.pth'], 'torchport: no/such.pth: no such file\n'],
    [['diff', 'fixtures/mobilenetv3/input.npy'], 'torchport: fixtures/mobilenetv3/input.npy: is not a PyTorch checkpoint: neither a zip archive nor a pickle stream (starts with 0x934e554d)\n'],
    [['diff', 'fixtures/mobilenetv3/tv_small.pth', '--mapping', 'nope'], "torchport: unknown mapping 'nope' (known: "],
    [['diff', 'fixtures/mobilenetv3/tv_small.pth', '--model', 'resnet50'], "torchport: no mapping targets model 'resnet50' (mappings: "],
    [['diff', 'fixtures/mobilenetv3/tv_small.pth', '--set', 'widthMult'], "torchport: --set expects NAME=VALUE, got 'widthMult'\n"],
    // --set is checked before any mapping is tried: a typo or a wrong type never sends detection to another model
    [['diff', 'fixtures/mobilenetv3/tv_small.pth', '--set', 'widhtMult=0.5'], `torchport: --set widhtMult: unknown model option; did you mean widthMult? (known: ${KNOWN_OPTIONS})\n`],
    [['diff', 'fixtures/mobilenetv3/tv_small.pth', '--set', 'widthMult=abc'], 'torchport: --set widthMult=abc: widthMult must be a number\n'],
    [['diff', 'fixtures/mobilenetv3/tv_small.pth', '--set', 'family=pytorch'], 'torchport: --set family=pytorch: family must be one of torchvision, dli14\n'],
    [['diff', 'fixtures/mobilenetv3/tv_small.pth', '--set', 'outIndices=[2,x]'], 'torchport: --set outIndices=[2,x]: outIndices must be a JSON list of integers\n'],
    [['diff', 'fixtures/mobilenetv3/tv_small.pth', '--set', 'zzz=1'], `torchport: --set zzz: unknown model option (known: ${KNOWN_OPTIONS})\n`],
  ];
  for (const [args, message] of cases) {
    const r = torchport(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.startsWith(message), r.stderr);
    assert.equal(r.stderr.split('\n').length, 2, r.stderr);
    assert.equal(r.stdout, '');
  }
});
