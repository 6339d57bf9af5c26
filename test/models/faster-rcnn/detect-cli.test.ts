// `torchport detect` as a process on a converted fixture detector (run `npm run build` first;
// `npm test` does): JSON output equals torchvision's detections, the table, --out drawings, and
// bad input → exit 2 with one line on stderr.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { encodePng } from '../../../src/io/image.js';
import { convertCheckpoint } from '../../../src/models/convert.js';
import { assertClose, f32, FIXTURE, npy } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const work = mkdtempSync(join(tmpdir(), 'torchport-detect-'));
const modelDir = join(work, 'model');
const images = [0, 1, 2].map((n) => join(work, `image_${n}.png`));

function torchport(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'torchport.js'), ...args], { encoding: 'utf8', cwd: ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(async () => {
  const result = await convertCheckpoint(join(FIXTURE, 'model.pth'), modelDir, { model: 'fasterrcnn_mobilenet_v3_large_320_fpn' });
  assert.ok(result.written);
  for (let n = 0; n < 3; n++) {
    const t = npy(`image_${n}`);
    writeFileSync(images[n], await encodePng({ height: t.shape[0], width: t.shape[1], data: t.data as Uint8Array }));
  }
});

after(() => rmSync(work, { recursive: true, force: true }));

test('--json: every detection torchvision reports (score >= 0.05), labels numbered as the source model', () => {
  const r = torchport('detect', modelDir, ...images, '--json', '--score-threshold', '0.05', '--backend', 'wasm');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.map((o: { image: string }) => o.image), images);
  out.forEach((o: { detections: Array<{ label: string; labelId: number; score: number; box: number[] }> }, n: number) => {
    const refScores = f32(`det_scores_${n}`);
    assert.equal(o.detections.length, refScores.length);
    assert.deepEqual(o.detections.map((d) => d.labelId), [...(npy(`det_labels_${n}`).data as Int32Array)]);
    assert.deepEqual(o.detections.map((d) => d.label), o.detections.map((d) => `class ${d.labelId}`));
    assertClose(o.detections.flatMap((d) => d.box), f32(`det_boxes_${n}`), 0.5, 'boxes');
    assertClose(o.detections.map((d) => d.score), refScores, 1e-3, 'scores');
  });
});

test('table output and --out drawings', () => {
  const outDir = join(work, 'drawn');
  const r = torchport('detect', modelDir, images[0], '--score-threshold', '0.05', '--out', outDir, '--backend', 'wasm');
  assert.equal(r.code, 0, r.stderr);
  const header = r.stdout.split('\n').find((l) => l.includes('label'));
  assert.match(header ?? '', /image\s+│ label\s+│ id\s+│ score\s+│ x1\s+│ y1\s+│ x2\s+│ y2/);
  assert.ok(existsSync(join(outDir, 'image_0.png')));
});

test('bad input: a missing image, a file that is not an image, a folder that is not a converted model', () => {
  // an image that cannot be read is skipped: exit 1 (see test/cli/detect.test.ts)
  let r = torchport('detect', modelDir, join(work, 'nope.png'), '--backend', 'wasm');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `torchport: ${join(work, 'nope.png')}: cannot read the image (no such file or folder)\n`);
  const notImage = join(work, 'not-an-image.png');
  writeFileSync(notImage, 'hello');
  r = torchport('detect', modelDir, notImage, '--backend', 'wasm');
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`^torchport: ${notImage}: not a decodable image \\(PNG or JPEG expected\\): .+\\n$`));
  r = torchport('detect', work, images[0], '--backend', 'wasm');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^torchport: .*no model\.json here.*\n$/);
  r = torchport('detect', modelDir, images[0], '--score-threshold', '2');
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'torchport: --score-threshold must be between 0 and 1, got 2\n');
});

test('a detector converted from a backbone-only checkpoint runs, and says its heads are untrained', async () => {
  const dir = join(work, 'backbone-only');
  const result = await convertCheckpoint(join(FIXTURE, 'backbone_f16.pth'), dir, {
    model: 'fasterrcnn_mobilenet_v3_large_320_fpn',
    options: { numClasses: 4, fpnChannels: 32, representationSize: 64 },
    allowMissing: true,
  });
  assert.ok(result.written);
  const r = torchport('detect', dir, images[0], '--json', '--backend', 'wasm');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^torchport: warning: \d+ parameter\(s\) were not in the converted weights and are freshly initialised \(e\.g\. neck\.lateral\.0\.weight\)/);
  assert.ok(Array.isArray(JSON.parse(r.stdout)));
});
