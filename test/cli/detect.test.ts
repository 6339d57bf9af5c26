// `torchport detect` on folders: PNG and JPEG files found in them (sub-folders with --recursive),
// a bad image reported on one line and skipped (exit 1 at the end), --out saying where it drew,
// and one name for the score threshold across detect and demo.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { encodeJpeg, encodePng } from '../../src/io/image.js';
import { convertCheckpoint } from '../../src/models/convert.js';
import { assertClose, f32, FIXTURE, npy } from '../models/faster-rcnn/helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'torchport-detect-folders-'));
const model = join(work, 'model');
const images = join(work, 'images');
after(() => rmSync(work, { recursive: true, force: true }));

const image = (n: number) => {
  const t = npy(`image_${n}`);
  return { height: t.shape[0], width: t.shape[1], data: t.data as Uint8Array };
};

before(async () => {
  assert.ok((await convertCheckpoint(join(FIXTURE, 'model.pth'), model, { model: 'fasterrcnn_mobilenet_v3_large_320_fpn' })).written);
  mkdirSync(join(images, 'sub'), { recursive: true });
  writeFileSync(join(images, 'a.png'), await encodePng(image(0)));
  writeFileSync(join(images, 'broken.png'), 'not an image');
  writeFileSync(join(images, 'notes.txt'), 'not looked at');
  writeFileSync(join(images, 'sub', 'b.JPG'), await encodeJpeg(image(1)));
  mkdirSync(join(work, 'empty'));
});

const detect = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'torchport.js'), 'detect', model, ...args, '--backend', 'wasm'], { encoding: 'utf8', cwd: work });
type Result = { image: string; detections: { score: number; labelId: number }[] };

test('a folder: its PNG and JPEG files, a bad one reported on its own line and skipped, exit 1; --out says where it drew', () => {
  const r = detect('images', '--json', '--score-threshold', '0.05', '--out', 'drawn');
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.match(lines[0], /^torchport: images\/broken\.png: not a decodable image \(PNG or JPEG expected\): /);
  assert.deepEqual(lines.slice(1), ['drew the detections on 1 image(s) in drawn', 'torchport: 1 of 2 images could not be read (above); the others are reported']);
  const out = JSON.parse(r.stdout) as Result[];
  assert.deepEqual(out.map((o) => o.image), ['images/a.png']);
  // the image read from the folder gives torchvision's detections
  assertClose(out[0].detections.map((d) => d.score), f32('det_scores_0'), 1e-3, 'scores');
  assert.deepEqual(out[0].detections.map((d) => d.labelId), [...(npy('det_labels_0').data as Int32Array)]);
  assert.ok(existsSync(join(work, 'drawn', 'a.png')));
});

test('--recursive: sub-folders too, and the drawings keep them', () => {
  const r = detect('images', '--recursive', '--out', 'drawn-all');
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /images\/a\.png/);
  assert.match(r.stdout, /images\/sub\/b\.JPG/);
  assert.match(r.stderr, /^drew the detections on 2 image\(s\) in drawn-all$/m);
  assert.ok(existsSync(join(work, 'drawn-all', 'a.png')));
  assert.ok(existsSync(join(work, 'drawn-all', 'sub', 'b.png')));
});

test('good images only: exit 0; a folder without images: one line, exit 2', () => {
  const ok = detect(join('images', 'a.png'), join('images', 'sub', 'b.JPG'), '--json');
  assert.equal(ok.status, 0, ok.stderr);
  assert.deepEqual((JSON.parse(ok.stdout) as Result[]).map((o) => o.image), ['images/a.png', 'images/sub/b.JPG']);
  const empty = detect('empty');
  assert.equal(empty.status, 2);
  assert.equal(empty.stderr, 'torchport: empty: no PNG or JPEG images in this folder (--recursive looks in its sub-folders too)\n');
});

test('the score threshold has one name in detect and demo', () => {
  for (const command of ['detect', 'demo']) {
    const help = spawnSync(process.execPath, [join(ROOT, 'bin', 'torchport.js'), command, '--help'], { encoding: 'utf8' }).stdout;
    assert.match(help, /--score-threshold/, command);
    assert.doesNotMatch(help, /--score-thr\b/, command);
  }
  const r = detect('images', '--score-threshold', '2');
  assert.equal(r.status, 2);
  assert.equal(r.stderr, 'torchport: --score-threshold must be between 0 and 1, got 2\n');
});
