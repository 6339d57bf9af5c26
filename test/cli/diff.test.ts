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

test("a detector's --set values win over what the mapping reads off the checkpoint", () => {
  const narrow = torchport('diff', 'fixtures/fasterrcnn/model.pth', '--set', 'widthMult=0.5');
  assert.equal(narrow.code, 1, narrow.stderr);
  assert.ok(narrow.stdout.split('\n').includes("summary: 37 matched, 0 missing, 0 unexpected, 247 shape mismatches, 46 ignored; loaded 14.4% of the model's parameters (136,639 of 952,167)"), narrow.stdout);
  const fpn = torchport('diff', 'fixtures/fasterrcnn/model.pth', '--set', 'fpnChannels=16');
  assert.equal(fpn.code, 1, fpn.stderr);
  assert.ok(fpn.stdout.includes('\nsummary: 271 matched, 0 missing, 0 unexpected, 13 shape mismatches, 46 ignored;'), fpn.stdout);
});

test('--set values the detected model refuses: exit 2 naming the option, never another model', () => {
  const backbone = 'mobilenetv3_small: unknown option fpnChannels (known: widthMult, family, bnEps, bnMomentum, dropout, outIndices, numClasses, frozenStages, normEval)';
  const cases: Array<[string[], string]> = [
    [['fixtures/mobilenetv3/tv_small.pth', '--set', 'widthMult=-1'],
      '--set widthMult=-1: mobilenetv3_small: widthMult must be a positive number, got -1 (candidate torchvision-mobilenetv3 → mobilenetv3_small); --model names the model they are for'],
    [['fixtures/mobilenetv3/tv_small.pth', '--set', 'fpnChannels=64'],
      `--set fpnChannels=64: ${backbone} (candidate torchvision-mobilenetv3 → mobilenetv3_small); --model names the model they are for`],
    [['fixtures/fasterrcnn/model.pth', '--set', 'widthMult=-1'],
      '--set widthMult=-1: mobilenetv3_large: widthMult must be a positive number, got -1 (candidate torchvision-fasterrcnn → fasterrcnn_mobilenet_v3_large_fpn); --model names the model they are for'],
    [['fixtures/fasterrcnn/model.pth', '--set', 'fpnChannels=-3'],
      '--set fpnChannels=-3: fasterrcnn_mobilenet_v3_large_fpn: fpnChannels must be a positive integer, got -3 (candidate torchvision-fasterrcnn → fasterrcnn_mobilenet_v3_large_fpn); --model names the model they are for'],
    [['fixtures/fasterrcnn/model.pth', '--set', 'representationSize=0', '--model', 'fasterrcnn_mobilenet_v3_large_fpn'],
      '--set representationSize=0: fasterrcnn_mobilenet_v3_large_fpn: representationSize must be a positive integer, got 0 (candidate torchvision-fasterrcnn → fasterrcnn_mobilenet_v3_large_fpn)'],
    [['fixtures/fasterrcnn/model.pth', '--set', 'widthMult=0.5', '--set', 'backbone={"widthMult":0.75}'],
      '--set widthMult=0.5 and backbone.widthMult=0.75 disagree; set the width once'],
  ];
  for (const [args, message] of cases) {
    const r = torchport('diff', ...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr, `torchport: ${message}\n`);
    assert.equal(r.stdout, '');
  }
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
