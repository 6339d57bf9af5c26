// `torchport export --format graph-model` as a process: the folder it writes loads and runs in
// plain tfjs-converter; bad input is one line and exit 2, with nothing written. And `torchport
// detect` on the d-li14 5-level config (adaptive RoIAlign) detects what its GraphModel detects.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { selectBackend } from '../../src/backend/select.js';
import { convertCheckpoint } from '../../src/models/convert.js';
import { assertClose, FIXTURE, npy } from '../models/faster-rcnn/helpers.js';
import { exportGraphModel } from '../../src/export/graph-model/index.js';
import { encodePng } from '../../src/io/image.js';
import { loadFolder, nearest, runDetector, writeDli14Folder } from './graph-model-helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'torchport-graph-cli-'));
const model = join(work, 'model');

function torchport(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'torchport.js'), ...args], { encoding: 'utf8', cwd: ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function oneLine(r: { code: number | null; stderr: string }, pattern: RegExp) {
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, pattern);
}

before(async () => {
  await selectBackend('wasm');
  assert.ok((await convertCheckpoint(join(FIXTURE, 'model.pth'), model, { model: 'fasterrcnn_mobilenet_v3_large_320_fpn' })).written);
});

after(() => rmSync(work, { recursive: true, force: true }));

test('writes a GraphModel folder (default out <model-dir>-graph-model) that plain TF.js runs', async () => {
  const r = torchport('export', model, '--format', 'graph-model');
  assert.equal(r.code, 0, r.stderr);
  const out = `${model}-graph-model`;
  assert.match(r.stdout, new RegExp(`^wrote ${out}/: a detector GraphModel \\(\\d+ nodes, \\d+ distinct ops, 1 weight shard\\(s\\)\\)\\n$`));
  const t = npy('image_0');
  const det = await runDetector(await loadFolder(out), { height: t.shape[0], width: t.shape[1], data: t.data as Uint8Array });
  assert.equal(det.scores.length, 18);
});

test('bad input: one line, exit 2, nothing written', () => {
  oneLine(torchport('export', join(work, 'nothing'), '--format', 'graph-model', '--out', join(work, 'o1')), /no model\.json here/);
  oneLine(torchport('export', model, '--format', 'onnx', '--out', join(work, 'o2')), /unknown --format 'onnx' \(known: pth, safetensors, graph-model\)/);
  oneLine(torchport('export', model, '--format', 'graph-model', '--layout', 'mmdet', '--out', join(work, 'o3')), /--layout is for the pth and safetensors formats/);
  const busy = join(work, 'busy');
  mkdirSync(busy);
  writeFileSync(join(busy, 'notes.txt'), 'mine');
  oneLine(torchport('export', model, '--format', 'graph-model', '--out', busy), /busy: exists and is not a model folder; choose another --out/);
  assert.deepEqual(readdirSync(busy), ['notes.txt']);
  for (const o of ['o1', 'o2', 'o3']) assert.ok(!existsSync(join(work, o)), o);
});

test('`torchport detect` on the d-li14 5-level config (adaptive RoIAlign) equals its exported GraphModel', async () => {
  const dir = await writeDli14Folder(join(work, 'dli14'));
  const out = join(work, 'dli14-graph');
  await exportGraphModel(dir, out);
  const t = npy('image_1');
  const image = nearest({ height: t.shape[0], width: t.shape[1], data: t.data as Uint8Array }, 800, 1333);
  const png = join(work, 'large.png');
  writeFileSync(png, await encodePng(image));
  const r = torchport('detect', dir, png, '--json', '--score-threshold', '0.05', '--backend', 'wasm');
  assert.equal(r.code, 0, r.stderr);
  const cli = JSON.parse(r.stdout)[0].detections as Array<{ labelId: number; score: number; box: number[] }>;
  const g = await runDetector(await loadFolder(out), image);
  assert.equal(cli.length, g.scores.length);
  assert.ok(cli.length > 0);
  assert.deepEqual(cli.map((d) => d.labelId), [...g.labels]);
  assertClose(cli.flatMap((d) => d.box), g.boxes, 1e-2, 'boxes');
  assertClose(cli.map((d) => d.score), g.scores, 1e-4, 'scores');
});
