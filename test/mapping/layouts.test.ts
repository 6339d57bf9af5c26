// The other shipped layouts, end to end on the wasm backend: timm key names, a d-li14 backbone in an
// mmdetection checkpoint, and the backbone of a real torchvision Faster R-CNN checkpoint.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { selectBackend } from '../../src/backend/select.js';
import { decodeNpy } from '../../src/checkpoint/npy.js';
import { convertCheckpoint, disposeConverted, loadConverted, type ConvertOptions } from '../../src/models/convert.js';
import { forwardNCHW } from '../../src/models/run-forward.js';
import { relErr } from './helpers.js';

const input = decodeNpy(readFileSync('fixtures/mobilenetv3/input.npy'));
let tmp: string;
before(async () => {
  await selectBackend('wasm');
  tmp = mkdtempSync(join(tmpdir(), 'torchport-layouts-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

async function check(file: string, goldens: string, indices: number[], opts: ConvertOptions = {}) {
  const out = join(tmp, file.replace(/\W/g, '_'));
  const result = await convertCheckpoint(file, out, opts);
  assert.equal(result.written, true);
  assert.equal(result.report.summary.complete, true);
  assert.equal(result.report.summary.unexpected, 0);
  const loaded = await loadConverted(out, { outIndices: indices });
  const outputs = await forwardNCHW(loaded, input);
  disposeConverted(loaded);
  for (const f of outputs.features) {
    const g = decodeNpy(readFileSync(join(goldens, `features_${f.index}.npy`)));
    assert.deepEqual(f.tensor.shape, g.shape);
    const err = relErr(f.tensor.data as Float32Array, g.data as Float32Array);
    assert.ok(err <= 1e-4, `features_${f.index}: relative error ${err}`);
  }
  return { report: result.report, outputs };
}

test('timm key names (tv_small saved under timm names; BatchNorm eps set back to torchvision 1e-3)', async () => {
  const { report, outputs } = await check('fixtures/mapping/timm_small.pth', 'fixtures/mobilenetv3/tv_small', [0, 1, 4, 9, 12], { options: { bnEps: 0.001 } });
  assert.equal(report.mapping.name, 'timm-mobilenetv3');
  assert.equal(report.model.name, 'mobilenetv3_small');
  assert.equal(report.model.options.numClasses, 10);
  assert.deepEqual(report.matched.filter((m) => m.source.startsWith('conv_head')).map((m) => [m.target, m.sourceShape, m.shape]), [
    ['classifier.fc1.weight', [208, 144, 1, 1], [144, 208]],
    ['classifier.fc1.bias', [208], [208]],
  ]);
  const g = decodeNpy(readFileSync('fixtures/mobilenetv3/tv_small/logits.npy'));
  assert.ok(relErr(outputs.logits!.data as Float32Array, g.data as Float32Array) <= 1e-4);
});

test('timm checkpoints default to BatchNorm eps 1e-5, as timm builds them', async () => {
  const { detectForSources, sourceSpecs } = await import('../../src/models/map-checkpoint.js');
  const { readCheckpoint } = await import('../../src/checkpoint/read.js');
  const sd = readCheckpoint('fixtures/mapping/timm_small.pth').object as Map<string, never>;
  assert.equal(detectForSources(sourceSpecs(sd)).best.options.bnEps, 1e-5);
});

test('d-li14 backbone inside an mmdetection checkpoint: backbone only (classifier, neck and heads ignored)', async () => {
  const { report, outputs } = await check('fixtures/mapping/mmdet_dli14_small.pth', 'fixtures/mobilenetv3/dli14_small', [2, 5, 9, 12]);
  assert.equal(report.mapping.name, 'mmdet-dli14-mobilenetv3');
  assert.deepEqual([report.model.options.family, report.model.options.bnEps, report.model.options.numClasses], ['dli14', 1e-5, 0]);
  assert.equal(outputs.logits, undefined);
  const reasons = new Map(report.ignored.map((i) => [i.source.split('.').slice(0, 2).join('.'), i.rule]));
  assert.equal(reasons.get('backbone.classifier'), 'dli14-mobilenetv3/head-unused');
  assert.equal(reasons.get('roi_head.bbox_head'), 'mmdet-dli14-mobilenetv3/detector-parts');
});

test('torchvision Faster R-CNN checkpoint: backbone.body.* loads with eps 1e-5, FPN/RPN/RoI heads ignored', async () => {
  const { report } = await check('fixtures/mapping/tvdet_large.pth', 'fixtures/mapping/tvdet_large', [13, 16], { model: 'mobilenetv3_large' });
  assert.equal(report.mapping.name, 'torchvision-detection-mobilenetv3');
  assert.equal(report.model.options.bnEps, 1e-5);
  assert.equal(report.summary.ignored, 68);
});

test('timm mobilenetv3_large_100 names (keys and shapes at full width): blocks.{stage}.{j} flatten onto features 1..16', async () => {
  const { mapCheckpoint } = await import('../../src/models/map-checkpoint.js');
  const { report } = mapCheckpoint('fixtures/mapping/timm_large_keys.pth');
  assert.equal(report.mapping.name, 'timm-mobilenetv3');
  assert.equal(report.model.name, 'mobilenetv3_large');
  assert.deepEqual([report.model.options.widthMult, report.model.options.numClasses, report.model.options.bnEps], [1, 1000, 1e-5]);
  assert.equal(report.summary.complete, true);
  assert.equal(report.summary.unexpected, 0);
  assert.equal(report.summary.totalParams, 5483032 + 24400); // parameters + BatchNorm running stats (fixtures/mobilenetv3/structure.json)
  const byTarget = new Map(report.matched.map((m) => [m.target, m.source]));
  assert.equal(byTarget.get('features.1.dw.conv.weight'), 'blocks.0.0.conv_dw.weight');
  assert.equal(byTarget.get('features.1.project.conv.weight'), 'blocks.0.0.conv_pw.weight');
  assert.equal(byTarget.get('features.7.expand.conv.weight'), 'blocks.3.0.conv_pw.weight');
  assert.equal(byTarget.get('features.10.project.bn.running_var'), 'blocks.3.3.bn3.running_var');
  assert.equal(byTarget.get('features.15.se.fc2.bias'), 'blocks.5.2.se.conv_expand.bias');
  assert.equal(byTarget.get('features.16.conv.weight'), 'blocks.6.0.conv.weight');
  assert.equal(byTarget.get('classifier.fc1.weight'), 'conv_head.weight');
});
