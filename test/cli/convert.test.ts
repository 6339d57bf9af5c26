// `torchport convert` as a process: the TF.js weights folder (equal to weights converted
// independently in Python), its metadata, refusal of partial models, safety of --out, no TF.js.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readTfjsWeights } from '../../src/io/tfjs-weights.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FORBID_TFJS = join(import.meta.dirname, 'fixtures', 'forbid-tfjs.mjs');
const torchport = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['--import', FORBID_TFJS, join(ROOT, 'bin', 'torchport.js'), ...args], { encoding: 'utf8', cwd: ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const tmp = mkdtempSync(join(tmpdir(), 'torchport-convert-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('tv_small → model.json + shard + mapping + report; weights equal the independently converted ones', () => {
  const out = join(tmp, 'tv_small');
  const r = torchport('convert', 'fixtures/mobilenetv3/tv_small.pth', '--out', out);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.split('\n'), [
    "torchvision-mobilenetv3 → mobilenetv3_small: 210 matched, 0 missing, 0 unexpected, 0 shape mismatches, 34 ignored; loaded 100.0% of the model's parameters (91,138 of 91,138)",
    `wrote ${out}/ (model.json, group1-shard1of1.bin, mapping.json, diff-report.json, source-layout.json, source-extras.safetensors)`,
    '',
  ]);
  assert.deepEqual(readdirSync(out).sort(), ['diff-report.json', 'group1-shard1of1.bin', 'mapping.json', 'model.json', 'source-extras.safetensors', 'source-layout.json']);
  const { modelJson, weights } = readTfjsWeights(out);
  const source = readFileSync('fixtures/mobilenetv3/tv_small.pth');
  assert.deepEqual(modelJson.userDefinedMetadata, {
    torchport: {
      model: 'mobilenetv3_small',
      options: { family: 'torchvision', bnEps: 0.001, numClasses: 10, widthMult: 0.2 },
      mapping: 'torchvision-mobilenetv3',
      source: { file: 'tv_small.pth', sha256: createHash('sha256').update(source).digest('hex'), bytes: source.length },
      missing: [],
    },
  });
  // fixtures/mobilenetv3/tv_small_canonical.*: the same weights converted by PyTorch code, not by torchport.
  const manifest = JSON.parse(readFileSync('fixtures/mobilenetv3/tv_small_canonical.json', 'utf8')) as { weights: Array<{ name: string; shape: number[] }> };
  const bin = readFileSync('fixtures/mobilenetv3/tv_small_canonical.bin');
  const expected = new Map<string, Float32Array>();
  let offset = 0;
  for (const w of manifest.weights) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    expected.set(w.name, new Float32Array(bin.buffer.slice(bin.byteOffset + offset, bin.byteOffset + offset + 4 * n)));
    offset += 4 * n;
  }
  assert.deepEqual(weights.map((w) => w.name).sort(), [...expected.keys()].sort());
  for (const w of weights) assert.deepEqual(w.data, expected.get(w.name), w.name);
  const mapping = JSON.parse(readFileSync(join(out, 'mapping.json'), 'utf8'));
  assert.equal(mapping.name, 'torchvision-mobilenetv3');
  assert.deepEqual(mapping.json, JSON.parse(readFileSync('mappings/torchvision-mobilenetv3.json', 'utf8')));
  const report = JSON.parse(readFileSync(join(out, 'diff-report.json'), 'utf8'));
  assert.equal(report.summary.complete, true);
});

test('a partial model is refused (exit 1, nothing written) unless --allow-missing', () => {
  const out = join(tmp, 'partial');
  const refused = torchport('convert', 'fixtures/mapping/tv_small_missing_block5.pth', '--out', out);
  assert.equal(refused.code, 1);
  assert.equal(refused.stderr, 'torchport: refusing to write a partial model (19 parameters missing, 0 mismatched); rerun with --allow-missing to write it anyway\n');
  assert.ok(refused.stdout.includes('\nmissing (in the model, not in the checkpoint) (19):\n'), refused.stdout);
  assert.equal(existsSync(out), false);
  const allowed = torchport('convert', 'fixtures/mapping/tv_small_missing_block5.pth', '--out', out, '--allow-missing', '--json');
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.equal(JSON.parse(allowed.stdout).summary.missing, 19);
  const meta = readTfjsWeights(out).modelJson.userDefinedMetadata as { torchport: { missing: string[] } };
  assert.equal(meta.torchport.missing.length, 19);
  assert.equal(meta.torchport.missing[0], 'features.5.expand.conv.weight');
});

test('--out never replaces a folder that holds something else; a previous conversion is replaced', () => {
  const busy = join(tmp, 'busy');
  mkdirSync(busy);
  writeFileSync(join(busy, 'notes.txt'), 'mine');
  const r = torchport('convert', 'fixtures/mobilenetv3/tv_small.pth', '--out', busy);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `torchport: ${busy}: exists and is not a torchport output folder; choose another --out\n`);
  assert.equal(readFileSync(join(busy, 'notes.txt'), 'utf8'), 'mine');
  const again = join(tmp, 'again');
  assert.equal(torchport('convert', 'fixtures/mobilenetv3/tv_small.pth', '--out', again).code, 0);
  assert.equal(torchport('convert', 'fixtures/mobilenetv3/dli14_small.pth', '--out', again).code, 0);
  assert.equal((readTfjsWeights(again).modelJson.userDefinedMetadata as { torchport: { mapping: string } }).torchport.mapping, 'dli14-mobilenetv3');
  assert.deepEqual(readdirSync(tmp).filter((f) => f.startsWith('.')), [], 'no temporary folders left behind');
});

test('bad input exits 2 and writes nothing', () => {
  const out = join(tmp, 'bad');
  const r = torchport('convert', 'fixtures/mobilenetv3/input.npy', '--out', out);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.split('\n').length, 2);
  assert.equal(existsSync(out), false);
  // a misspelt model option is refused, never written into model.json
  for (const model of ['fixtures/mobilenetv3/tv_small.pth', 'fixtures/fasterrcnn/model.pth']) {
    const typo = torchport('convert', model, '--out', out, '--set', 'widhtMult=0.5');
    assert.equal(typo.code, 2, typo.stderr);
    assert.match(typo.stderr, /^torchport: --set widhtMult: unknown model option; did you mean widthMult\? \(known: widthMult, .*\)\n$/);
    assert.equal(existsSync(out), false);
  }
});

test('an ambiguous mapping (two keys → one parameter) is refused even with --allow-missing; diff shows the conflict', () => {
  const mapping = join(tmp, 'ambiguous.json');
  writeFileSync(mapping, JSON.stringify({
    model: 'mobilenetv3_small',
    include: [{ mapping: 'torchvision-mobilenetv3', sourcePrefix: 'features.1.' , replaceWith: 'features.1.' }],
    rules: [{ id: 'both', from: '^features\\.0\\.1\\.(weight|bias)$', to: 'features.0.bn.weight' }],
  }));
  const out = join(tmp, 'ambiguous');
  const r = torchport('convert', 'fixtures/mobilenetv3/tv_small.pth', '--mapping', mapping, '--out', out, '--allow-missing');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'torchport: refusing to convert: the mapping is ambiguous (two checkpoint keys claim the same parameter; see the conflicts above)\n');
  assert.equal(existsSync(out), false);
  const d = torchport('diff', 'fixtures/mobilenetv3/tv_small.pth', '--mapping', mapping);
  assert.equal(d.code, 1);
  assert.ok(d.stdout.includes('\nconflict: features.0.bn.weight is claimed by features.0.1.weight, features.0.1.bias [ambiguous/both, ambiguous/both]\n'), d.stdout);
});
