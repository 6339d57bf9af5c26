// One model-folder contract: a fine-tuning checkpoint (model.json written with the metadata
// `finetune` passes to saveCheckpoint) loads like a `convert` folder, in the library and through
// `torchport detect`, and detects what the converted folder detects.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { selectBackend } from '../../src/backend/select.js';
import { encodePng } from '../../src/io/image.js';
import { readTfjsWeights, writeTfjsWeights } from '../../src/io/tfjs-weights.js';
import { convertCheckpoint } from '../../src/mapping/convert.js';
import { detectorFolderMetadata, loadDetectorDir } from '../../src/models/detectors/load.js';
import { FIXTURE, npy } from '../models/detection/helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'torchport-folder-'));
const converted = join(work, 'converted');
const best = join(work, 'work_dir', 'best');
const png = join(work, 'image_0.png');

before(async () => {
  await selectBackend('wasm');
  assert.ok((await convertCheckpoint(join(FIXTURE, 'model.pth'), converted, { model: 'fasterrcnn_mobilenet_v3_large_320_fpn' })).written);
  // a checkpoint as `finetune` writes it: the detector's whole config, class names, provenance
  const config = loadDetectorDir(converted).model.config;
  const { weights } = readTfjsWeights(converted);
  mkdirSync(best, { recursive: true });
  writeTfjsWeights(best, weights, {
    format: 'torchport-checkpoint',
    generatedBy: 'torchport finetune',
    convertedBy: 'torchport',
    userDefinedMetadata: { config: 'cfg.js', torchport: detectorFolderMetadata({ ...config, classNames: ['rectangle', 'ellipse', 'cross'] }, 'FasterRCNN', { by: 'torchport finetune', config: 'cfg.js' }) },
  });
  const t = npy('image_0');
  writeFileSync(png, await encodePng({ height: t.shape[0], width: t.shape[1], data: t.data as Uint8Array }));
});

after(() => rmSync(work, { recursive: true, force: true }));

function torchport(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'torchport.js'), ...args], { encoding: 'utf8', cwd: ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a fine-tuning checkpoint loads as a detector with its config and class names', () => {
  const loaded = loadDetectorDir(best);
  assert.deepEqual(loaded.initialised, []);
  assert.equal(loaded.name, 'FasterRCNN');
  assert.deepEqual(loaded.model.config.classNames, ['rectangle', 'ellipse', 'cross']);
  assert.equal(loaded.model.config.roiHead.numClasses, 4);
});

test('`torchport detect` on a fine-tuning checkpoint equals detect on the converted folder', () => {
  const a = torchport('detect', converted, png, '--json', '--score-thr', '0.05', '--backend', 'wasm');
  const b = torchport('detect', best, png, '--json', '--score-thr', '0.05', '--backend', 'wasm');
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const da = JSON.parse(a.stdout)[0].detections;
  const db = JSON.parse(b.stdout)[0].detections;
  assert.ok(da.length > 0);
  assert.deepEqual(db.map((d: { box: number[] }) => d.box), da.map((d: { box: number[] }) => d.box));
  assert.deepEqual(db.map((d: { label: string }) => d.label), da.map((d: { labelId: number }) => ['rectangle', 'ellipse', 'cross'][d.labelId - 1]));
});

test('a weights folder without torchport metadata: one line, exit 2', () => {
  const bare = join(work, 'bare');
  mkdirSync(bare);
  writeTfjsWeights(bare, readTfjsWeights(converted).weights, { format: 'x', generatedBy: 'x', convertedBy: 'x' });
  const r = torchport('detect', bare, png);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /no torchport metadata .*not a model folder written by `torchport convert` or `torchport finetune`/);
});
