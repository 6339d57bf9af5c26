// The bar: every shipped layout, converted by the mapping engine and run in TF.js (wasm), computes
// what PyTorch computed, at every feature layer and the logits (fixtures/mobilenetv3, real PyTorch).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import { decodeNpy } from '../../src/checkpoint/npy.js';
import { convertCheckpoint, disposeConverted, loadConverted } from '../../src/models/convert.js';
import { forwardNCHW } from '../../src/models/run-forward.js';
import { relErr } from './helpers.js';

const FIX = 'fixtures/mobilenetv3';
interface ManifestEntry { file: string; backbone: string; family: string; widthMult: number; numClasses: number; bnEps: number; format: string; dtype: string; goldens: string }
const manifest = JSON.parse(readFileSync(join(FIX, 'manifest.json'), 'utf8')) as { input: string; checkpoints: ManifestEntry[] };
const input = decodeNpy(readFileSync(join(FIX, manifest.input)));

const TOLERANCE = 1e-4;
/** float16 source against the float32 model's outputs: the weights themselves were rounded (~5e-4 relative each). */
const F16_VS_F32_TOLERANCE = 2e-2;

let tmp: string;
before(async () => {
  await selectBackend('wasm');
  tmp = mkdtempSync(join(tmpdir(), 'torchport-parity-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

async function convertAndRun(entry: ManifestEntry) {
  const out = join(tmp, entry.file);
  const result = await convertCheckpoint(join(FIX, entry.file), out);
  assert.equal(result.written, true);
  const loaded = await loadConverted(out, { outIndices: 'all' });
  const outputs = await forwardNCHW(loaded, input);
  disposeConverted(loaded);
  return { result, outputs };
}

function golden(dir: string, name: string): { shape: number[]; data: Float32Array } {
  const t = decodeNpy(readFileSync(join(FIX, dir, `${name}.npy`)));
  return { shape: t.shape, data: t.data as Float32Array };
}

describe('converted MobileNetV3 matches PyTorch (wasm backend)', () => {
  for (const entry of manifest.checkpoints) {
    it(`${entry.file} (${entry.format}, ${entry.dtype}): every feature layer and the logits within ${TOLERANCE} relative`, async () => {
      const { result, outputs } = await convertAndRun(entry);
      const r = result.report;
      assert.equal(r.model.name, entry.backbone);
      assert.equal(r.model.options.family, entry.family);
      assert.equal(r.model.options.bnEps, entry.bnEps);
      assert.equal(r.model.options.numClasses, entry.numClasses);
      assert.equal(r.summary.complete, true);
      assert.equal(r.summary.unexpected, 0);
      assert.equal(r.summary.loadedShare, 1);
      const layers = entry.backbone === 'mobilenetv3_large' ? 17 : 13;
      assert.deepEqual(outputs.features.map((f) => f.index), Array.from({ length: layers }, (_, i) => i));
      for (const f of outputs.features) {
        const g = golden(entry.goldens, `features_${f.index}`);
        assert.deepEqual(f.tensor.shape, g.shape, `features_${f.index} shape`);
        const err = relErr(f.tensor.data as Float32Array, g.data);
        assert.ok(err <= TOLERANCE, `features_${f.index}: relative error ${err}`);
      }
      const g = golden(entry.goldens, 'logits');
      assert.ok(outputs.logits);
      assert.deepEqual(outputs.logits.shape, g.shape);
      const err = relErr(outputs.logits.data as Float32Array, g.data);
      assert.ok(err <= TOLERANCE, `logits: relative error ${err}`);
    });
  }

  it(`tv_large_f16.pth stays within ${F16_VS_F32_TOLERANCE} of the float32 model's outputs`, async () => {
    const entry = manifest.checkpoints.find((c) => c.dtype === 'float16')!;
    const { outputs } = await convertAndRun({ ...entry, file: entry.file });
    for (const f of outputs.features) {
      const err = relErr(f.tensor.data as Float32Array, golden('tv_large', `features_${f.index}`).data);
      assert.ok(err <= F16_VS_F32_TOLERANCE, `features_${f.index}: relative error ${err}`);
    }
    assert.ok(relErr(outputs.logits!.data as Float32Array, golden('tv_large', 'logits').data) <= F16_VS_F32_TOLERANCE);
  });

  it('leaks no tensors across a convert + forward', async () => {
    const before = tf.memory().numTensors;
    await convertAndRun(manifest.checkpoints[3]);
    assert.equal(tf.memory().numTensors, before);
  });
});
