// `torchport inspect` as a process (run `npm run build` first; `npm test` does): output, --json,
// --group, --key, --filter, --npy, warnings, and bad input → exit 2 with one line on stderr.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { toFloat32 } from '../../src/checkpoint/dtype.js';
import { decodeNpy } from '../../src/checkpoint/npy.js';
import { expected, fixture, FIXTURES } from '../checkpoint/helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');

function torchport(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'torchport.js'), ...args], { encoding: 'utf8', cwd: ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('text report: format, wrapper, counts, bytes by dtype, one table row per tensor', () => {
  const r = torchport('inspect', fixture('wrap_state_dict.pth'));
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.deepEqual(lines.slice(1, 7), [
    'format      zip, pickle protocol 2, 19 records',
    "weights in  'state_dict'",
    'also holds  meta: dict (5 entries); optimizer: dict (2 entries)',
    'tensors     10',
    'parameters  174 (weights and buffers, as diff counts them); 1 more in integer tensors (counters such as num_batches_tracked)',
    'bytes       704: float32 696 (9 tensors), int64 8 (1 tensor)',
  ]);
  assert.ok(lines.includes('│ stem.0.weight              │ float32 │ [4, 3, 3, 3] │   108 │'), r.stdout);
  assert.ok(lines.includes('│ stem.1.num_batches_tracked │ int64   │ []           │     1 │'), r.stdout);
});

test('inspect and diff count the same thing with the same word: parameters are the weights and buffers', () => {
  for (const file of ['fixtures/mobilenetv3/tv_small.pth', 'fixtures/fasterrcnn/model.pth']) {
    const inspected = /^parameters {2}([\d,]+) \(weights and buffers, as diff counts them\); ([\d,]+) more in integer tensors/m.exec(torchport('inspect', file).stdout);
    const diffed = /loaded 100\.0% of the model's parameters \(([\d,]+) of ([\d,]+)\)/.exec(torchport('diff', file).stdout);
    assert.ok(inspected && diffed, file);
    assert.equal(inspected[1], diffed[2], file);
  }
});

test('--json lists every key of the unwrapped state dict; --key picks a sub-dict', () => {
  const r = torchport('inspect', fixture('dataparallel_in_state_dict.pth'), '--json');
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.source, 'state_dict');
  assert.equal(report.strippedPrefix, 'module.');
  assert.deepEqual(report.rows.map((x: { key: string }) => x.key), expected('dataparallel_in_state_dict').extract!.keys);
  assert.deepEqual(report.others, { epoch: 'int 1' });
  assert.deepEqual(report.notes, ["stripped 'module.' from all 10 keys (DataParallel)"]);
  const ema = JSON.parse(torchport('inspect', fixture('two_candidates.pth'), '--key', 'ema', '--json').stdout);
  assert.equal(ema.source, 'ema');
  assert.equal(ema.summary.tensors, 10);
});

test('--group collapses numbered keys; --filter keeps matching keys', () => {
  const r = torchport('inspect', fixture('detector.pth'), '--group', '--filter', '^backbone', '--json');
  const report = JSON.parse(r.stdout);
  assert.deepEqual(report.groups.map((g: { pattern: string; tensors: number }) => [g.pattern, g.tensors]), [
    ['backbone.body.stem.{0,1}.*', 6], ['backbone.body.dw.weight', 1], ['backbone.body.dw.bias', 1],
    ['backbone.body.head.weight', 1], ['backbone.body.head.bias', 1],
  ]);
  assert.equal(report.totalTensors, 12);
  assert.equal(report.summary.tensors, 10);
});

test('--npy writes each tensor in its own dtype (bfloat16 widened) with PyTorch values', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'torchport-npy-')), 'out');
  try {
    const r = torchport('inspect', fixture('dtypes.pth'), '--npy', dir, '--filter', '^(f32|bf16|i64|bool|scalar|empty|permuted)$');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(`wrote 7 .npy files to ${dir} (1 bfloat16 tensors widened to float32: bf16)`), r.stdout);
    assert.deepEqual(readdirSync(dir).sort(), ['bf16.npy', 'bool.npy', 'empty.npy', 'f32.npy', 'i64.npy', 'permuted.npy', 'scalar.npy']);
    for (const e of expected('dtypes').tensors.filter((t) => existsSync(join(dir, `${t.path[0]}.npy`)))) {
      const got = decodeNpy(readFileSync(join(dir, `${e.path[0]}.npy`)));
      const want = Buffer.from(e.data, 'base64');
      assert.deepEqual(got.shape, e.shape);
      if (e.dtype === 'bfloat16') {
        assert.equal(got.dtype, 'float32');
        const bits = new Uint16Array(want.buffer, want.byteOffset, want.length / 2);
        assert.deepEqual(got.data, toFloat32({ dtype: 'bfloat16', shape: e.shape, data: bits }));
      } else {
        assert.equal(got.dtype, e.dtype === 'bool' ? 'bool' : e.dtype);
        assert.ok(Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength).equals(want), e.path[0]);
      }
    }
  } finally {
    rmSync(dirname(dir), { recursive: true, force: true });
  }
});

test('unknown globals: shown as warnings by default, refused (exit 2) with --strict', () => {
  const kept = torchport('inspect', fixture('unknown_global.pth'));
  assert.equal(kept.code, 0, kept.stderr);
  assert.ok(kept.stdout.includes("warning: unknown global 'mylib.config.TrainConfig' kept as an inert placeholder"), kept.stdout);
  assert.ok(kept.stdout.includes('also holds  cfg: mylib.config.TrainConfig object'), kept.stdout);
  const refused = torchport('inspect', fixture('unknown_global.pth'), '--strict');
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /^torchport: .*unknown_global\.pth: refusing to read under --strict: it references 'mylib\.config\.TrainConfig'/);
});

test('bad input: exit 2, one line on stderr naming the file, no stack trace without --verbose', () => {
  const cases: Array<[string, string]> = [
    [fixture('malicious_system.pth'), "refusing to read: it references 'posix.system', which can run code; this is not a plain checkpoint (nothing from it was executed)"],
    [fixture('random.bin'), 'is not a PyTorch checkpoint: neither a zip archive nor a pickle stream (starts with 0x133725f4)'],
    [fixture('truncated_zip.pth'), 'not a readable zip archive: no end-of-central-directory record (truncated?)'],
    [fixture('oversized_tensor.pth'), "tensor 'w' (size [1000], stride [1], offset 0) reaches element 999 but its storage 'oversized_tensor/data/0' holds 10 float32 elements"],
    [fixture('nope.pth'), 'no such file'],
    [FIXTURES, 'is a directory, not a checkpoint file'],
  ];
  for (const [file, message] of cases) {
    const r = torchport('inspect', file);
    assert.equal(r.code, 2, file);
    assert.equal(r.stderr, `torchport: ${file}: ${message}\n`);
    assert.equal(r.stdout, '');
  }
  const verbose = torchport('inspect', fixture('random.bin'), '--verbose');
  assert.equal(verbose.code, 2);
  assert.match(verbose.stderr, /\n {4}at /);
  const badRegex = torchport('inspect', fixture('dtypes.pth'), '--filter', '(');
  assert.equal(badRegex.code, 2);
  assert.equal(badRegex.stderr, 'torchport: invalid --filter regular expression: Invalid regular expression: /(/: Unterminated group\n');
});

test('inspect never imports TF.js (static import graph of the built command)', () => {
  const seen = new Set<string>();
  const work = [resolve(ROOT, 'dist', 'cli', 'commands', 'inspect.js')];
  while (work.length) {
    const file = work.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      const spec = m[1] ?? m[2];
      assert.ok(!spec.startsWith('@tensorflow'), `${file} imports ${spec}`);
      if (spec.startsWith('.')) work.push(resolve(dirname(file), spec));
    }
  }
  assert.ok(seen.size > 5);
});
