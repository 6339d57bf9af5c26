// The reading flags as processes (run `npm run build` first; `npm test` does): every command that reads
// a checkpoint accepts --strict and --no-verify, and no refusal suggests a flag the command rejects.
// inspect and diff say what they did with whole models, EMA weights and quantized tensors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixture } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');

function torchport(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'torchport.js'), ...args], { encoding: 'utf8', cwd: ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every flag a message suggests, e.g. `--no-verify`. */
const suggested = (text: string): string[] => [...text.matchAll(/--[a-z][a-z-]+/g)].map((m) => m[0]);

test('inspect, diff and convert refuse a corrupted record naming it and accept the --no-verify it suggests', () => {
  const message = `torchport: ${fixture('bad_crc.pth')}: zip record 'small/data.pkl' fails its CRC-32 check (corrupted; --no-verify skips the check)\n`;
  for (const cmd of ['inspect', 'diff', 'convert']) {
    const out = cmd === 'convert' ? ['--out', join(ROOT, 'never-written_tfjs')] : [];
    const refused = torchport(cmd, fixture('bad_crc.pth'), ...out);
    assert.equal(refused.code, 2, refused.stderr);
    assert.equal(refused.stderr, message, cmd);
    for (const flag of suggested(refused.stderr)) {
      const again = torchport(cmd, fixture('bad_crc.pth'), ...out, flag);
      assert.doesNotMatch(again.stderr, /unknown option|fails its CRC-32/i, `${cmd} ${flag}`);
    }
  }
});

test('--strict is accepted by every reading command and refuses unknown classes', () => {
  for (const cmd of ['inspect', 'diff', 'convert']) {
    const r = torchport(cmd, fixture('unknown_global.pth'), '--strict');
    assert.equal(r.code, 2, `${cmd}: ${r.stderr}`);
    assert.match(r.stderr, /refusing to read under --strict: it references 'mylib\.config\.TrainConfig'/);
  }
  for (const cmd of ['inspect', 'diff', 'convert', 'finetune']) {
    const help = torchport(cmd, '--help');
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /--strict/, cmd);
    assert.match(help.stdout, /--verify/, cmd);
    assert.match(help.stdout, /--key/, cmd);
  }
});

test('inspect says which module it took and names the placeholder classes', () => {
  const r = torchport('inspect', fixture('yolo_style.pth'));
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.equal(lines[2], "weights in  'ema'");
  assert.ok(lines.includes("note: took 'ema' over 'model' (the EMA weights, as YOLOv5's loader does; --key model takes the other)"), r.stdout);
  assert.ok(lines.includes("warning: unknown global 'models.yolo.Model' kept as an inert placeholder"), r.stdout);
  assert.ok(lines.includes('│ model.0.conv.weight            │ float16 │ [4, 3, 3, 3] │   108 │'), r.stdout);
  const whole = torchport('inspect', fixture('whole_model_legacy.pth'), '--json');
  assert.equal(whole.code, 0, whole.stderr);
  const report = JSON.parse(whole.stdout);
  assert.equal(report.source, '<root>');
  assert.equal(report.totalTensors, 15);
});

test('inspect shows quantized tensors with their scheme; diff notes the dequantization', () => {
  const r = torchport('inspect', fixture('quantized_tensors.pth'), '--json');
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout).rows as Array<{ key: string; dtype: string; quantized?: string }>;
  assert.deepEqual(rows.find((x) => x.key === 'per_channel_quint8_axis1'),
    { key: 'per_channel_quint8_axis1', dtype: 'float32', shape: [3, 4], numel: 12, quantized: 'quint8, per-channel affine, axis 1, 4 scales and zero points' });
  const d = torchport('diff', fixture('quantized_tensors.pth'));
  assert.match(d.stdout, /^note: dequantized 5 quantized tensors to float32 as \(q - zero_point\) × scale: /m);
});
