// .pth → convert → export → read gives back the checkpoint bit for bit (keys, order, dtypes, shapes,
// bytes), from zip and legacy files, torchvision, mmdetection, d-li14 and timm layouts, float16
// sources; other layouts and dtypes on request; and the exports PyTorch checked are what the code
// writes today (fixtures/export/verdicts.json, by fixtures/gen_export.py).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { floatToHalf } from '../../src/checkpoint/narrow.js';
import { exportStateDict } from '../../src/export/write.js';
import { convertCheckpoint } from '../../src/models/convert.js';
import { makeExports } from '../../fixtures/export/make-exports.js';
import { bytesOf, differences, stateDictOf } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const fixture = (p: string) => join(ROOT, 'fixtures', p);
const work = mkdtempSync(join(tmpdir(), 'torchport-export-'));
after(() => rmSync(work, { recursive: true, force: true }));

async function converted(source: string): Promise<string> {
  const dir = join(work, source.replace(/\W/g, '_'));
  const r = await convertCheckpoint(fixture(source), dir);
  assert.ok(r.written, `${source} converts`);
  return dir;
}

for (const [source, what] of [
  ['fasterrcnn/model.pth', 'torchvision detector, zip'],
  ['fasterrcnn/model_v1.pth', 'torchvision detector, pre-0.13 keys and _metadata version 1'],
  ['fasterrcnn/model_mmdet.pth', 'mmdetection detector'],
  ['fasterrcnn/backbone_f16.pth', 'float16 backbone'],
  ['mobilenetv3/tv_large_legacy.pth', 'legacy (pre-1.6) container'],
  ['mobilenetv3/dli14_small.pth', 'd-li14 classifier'],
  ['mapping/timm_small.pth', 'timm classifier'],
  ['mapping/mmdet_dli14_small.pth', 'd-li14 backbone in an mmdetection checkpoint (detector parts kept aside)'],
]) {
  test(`round trip is bit-exact: ${what} (${source})`, async () => {
    const dir = await converted(source);
    const out = join(work, `${source.replace(/\W/g, '_')}.pth`);
    const e = exportStateDict(dir, out, { format: 'pth' });
    assert.equal(e.exact, true);
    const original = stateDictOf(fixture(source), e.container === 'raw' ? undefined : e.container);
    assert.deepEqual(differences(original, stateDictOf(out, e.container === 'raw' ? undefined : e.container)), []);
    const st = join(work, `${source.replace(/\W/g, '_')}.safetensors`);
    exportStateDict(dir, st, { format: 'safetensors' });
    assert.deepEqual(differences(original, stateDictOf(st)), []);
  });
}

test('the exports PyTorch checked are byte for byte what export writes now, and every verdict holds', async () => {
  const verdicts = JSON.parse(readFileSync(fixture('export/verdicts.json'), 'utf8')) as {
    files: Record<string, Record<string, unknown> & { sha256: string }>;
    ddp: Record<string, unknown>;
  };
  const out = join(work, 'checked');
  const names = await makeExports(out);
  assert.deepEqual(names.sort(), Object.keys(verdicts.files).sort());
  for (const name of names) {
    const v = verdicts.files[name];
    assert.equal(createHash('sha256').update(readFileSync(join(out, name))).digest('hex'), v.sha256, `${name}: not the bytes PyTorch checked`);
    for (const [k, x] of Object.entries(v)) if (typeof x === 'boolean') assert.equal(x, true, `${name}: ${k}`);
  }
  assert.equal(verdicts.files['detector_torchvision.pth'].detectionsEqualOriginal, true);
  assert.equal(verdicts.files['detector_mmdet.pth'].strictLoadMmdetReference, true);
  assert.deepEqual(verdicts.files['detector_mmdet.pth'].topLevelKeys, ['meta', 'state_dict']);
  assert.deepEqual(verdicts.files['backbone_f16.pth'].dtypes, ['torch.float16', 'torch.int64']);
  assert.equal(verdicts.ddp.worldSize, 2);
  assert.equal(verdicts.ddp.ranksInSync, true);
  assert.equal(verdicts.ddp.weightsChanged, true);
});

test('torchvision → mmdetection layout equals the mmdetection form torchvision\'s tensors were renamed to', async () => {
  const dir = await converted('fasterrcnn/model.pth');
  const out = join(work, 'as_mmdet.pth');
  const e = exportStateDict(dir, out, { format: 'pth', layout: 'mmdet' });
  assert.equal(e.exact, false);
  assert.deepEqual(differences(stateDictOf(fixture('fasterrcnn/model_mmdet.pth')), stateDictOf(out, 'state_dict')), []);
});

test('mmdetection → torchvision layout: every tensor equal, background box rows zero (mmdetection has none)', async () => {
  const dir = await converted('fasterrcnn/model_mmdet.pth');
  const out = join(work, 'as_tv.pth');
  exportStateDict(dir, out, { format: 'pth', layout: 'torchvision' });
  const want = stateDictOf(fixture('fasterrcnn/model.pth'));
  const got = stateDictOf(out);
  const diff = differences(want, got);
  assert.deepEqual(diff, ['roi_heads.box_predictor.bbox_pred.weight: bytes differ', 'roi_heads.box_predictor.bbox_pred.bias: bytes differ']);
  const w = got.get('roi_heads.box_predictor.bbox_pred.weight')!.data as Float32Array;
  const rep = got.get('roi_heads.box_predictor.bbox_pred.weight')!.shape[1];
  assert.ok(w.subarray(0, 4 * rep).every((x) => x === 0));
  assert.deepEqual([...w.subarray(4 * rep)], [...(want.get('roi_heads.box_predictor.bbox_pred.weight')!.data as Float32Array).subarray(4 * rep)]);
});

test('--dtype float16 rounds as torch .half() does; --dtype bfloat16 and back is exact', async () => {
  const dir = await converted('fasterrcnn/model.pth');
  const half = join(work, 'half.pth');
  exportStateDict(dir, half, { format: 'pth', dtype: 'float16' });
  const got = stateDictOf(half);
  const torchHalf = stateDictOf(fixture('fasterrcnn/backbone_f16.pth'));
  let compared = 0;
  for (const [k, t] of torchHalf) {
    const u = got.get(`backbone.body.${k.slice('features.'.length)}`)!;
    assert.equal(u.dtype, t.dtype, k);
    assert.ok(bytesOf(u).equals(bytesOf(t)), `${k}: float16 bits differ from torch's .half()`);
    compared++;
  }
  assert.ok(compared > 200);
  assert.equal(floatToHalf(65520), 0x7c00); // rounds to +inf like torch
  const bf = join(work, 'bf16.safetensors');
  exportStateDict(dir, bf, { format: 'safetensors', dtype: 'bfloat16' });
  const bfDir = join(work, 'bf16_converted');
  assert.ok((await convertCheckpoint(bf, bfDir)).written);
  const again = join(work, 'bf16_again.safetensors');
  exportStateDict(bfDir, again, { format: 'safetensors' });
  assert.deepEqual(differences(stateDictOf(bf), stateDictOf(again)), []);
  assert.ok([...stateDictOf(again).values()].some((t) => t.dtype === 'bfloat16'));
});
