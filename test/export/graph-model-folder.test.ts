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
import { convertCheckpoint } from '../../src/models/convert.js';
import { detectorFolderMetadata, loadDetectorDir } from '../../src/models/detectors/load.js';
import { FIXTURE, npy } from '../models/faster-rcnn/helpers.js';

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
  const a = torchport('detect', converted, png, '--json', '--score-threshold', '0.05', '--backend', 'wasm');
  const b = torchport('detect', best, png, '--json', '--score-threshold', '0.05', '--backend', 'wasm');
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

test('`torchport forward` on a detector folder writes its FPN outputs; the converted folder and the checkpoint agree', async () => {
  const input = join(work, 'x.npy');
  const { encodeNpy, decodeNpy } = await import('../../src/checkpoint/npy.js');
  const data = Float32Array.from({ length: 3 * 64 * 96 }, (_, i) => Math.sin(i) * 0.5);
  writeFileSync(input, encodeNpy({ dtype: 'float32', shape: [1, 3, 64, 96], data }));
  const outs = [converted, best].map((dir, k) => {
    const out = join(work, `fpn-${k}`);
    const r = torchport('forward', dir, '--input', input, '--out', out, '--backend', 'wasm');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `wrote fpn_0.npy [1, 32, 2, 3], fpn_1.npy [1, 32, 2, 3], fpn_2.npy [1, 32, 1, 2] to ${out}/\n`);
    return out;
  });
  for (const f of ['fpn_0.npy', 'fpn_1.npy', 'fpn_2.npy']) {
    const { readFileSync } = await import('node:fs');
    assert.deepEqual(decodeNpy(readFileSync(join(outs[0], f))).data, decodeNpy(readFileSync(join(outs[1], f))).data);
  }
  const r = torchport('forward', best, '--input', input, '--out', join(work, 'fpn-x'), '--out-indices', '3');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--out-indices is for backbones; a detector folder writes its FPN outputs/);
});
