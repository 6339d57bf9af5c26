// MobileNetV3 structure against facts PyTorch reported (fixtures/mobilenetv3/structure.json):
// feature info, every parameter's canonical name and TF.js shape, parameter counts; plus option
// validation with exact messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createMobileNetV3, frozenStagesFromTrainableLayers, makeDivisible } from '../../src/models/backbones/mobilenetv3/index.js';
import { backbones } from '../../src/models/backbones/registry.js';
import { numel } from '../../src/models/layers/specs.js';
import { InputError } from '../../src/errors.js';
import { structure } from './mobilenetv3-fixtures.js';

for (const s of structure()) {
  const label = `${s.family} ${s.variant} width ${s.widthMult}, ${s.numClasses} classes`;
  test(`${label}: specs, feature info and parameter counts match PyTorch`, () => {
    const net = createMobileNetV3({ variant: s.variant, widthMult: s.widthMult, family: s.family, numClasses: s.numClasses });
    assert.deepEqual(net.featureInfo, s.featureInfo);
    assert.deepEqual(net.specs.map((p) => [p.name, p.shape]), s.specs);
    const trainable = net.specs.filter((p) => p.trainable).reduce((n, p) => n + numel(p.shape), 0);
    const all = net.specs.reduce((n, p) => n + numel(p.shape), 0);
    assert.equal(trainable, s.parameters);
    assert.equal(all - trainable, s.buffers);
    assert.equal(net.options.bnEps, s.bnEps);
  });
}

test('width 1.0 feature info is torchvision\'s (strides and channels)', () => {
  const large = createMobileNetV3({ variant: 'large' }).featureInfo;
  assert.deepEqual(large.map((f) => f.stride), [2, 2, 4, 4, 8, 8, 8, 16, 16, 16, 16, 16, 16, 32, 32, 32, 32]);
  assert.deepEqual(large.map((f) => f.channels), [16, 16, 24, 24, 40, 40, 40, 80, 80, 80, 80, 112, 112, 160, 160, 160, 960]);
  const small = createMobileNetV3({ variant: 'small' }).featureInfo;
  assert.deepEqual(small.map((f) => f.stride), [2, 4, 8, 8, 16, 16, 16, 16, 16, 32, 32, 32, 32]);
  assert.deepEqual(small.map((f) => f.channels), [16, 16, 24, 24, 40, 40, 40, 48, 48, 96, 96, 96, 576]);
});

test('the write-up\'s outIndices [2, 5, 9, 14] give the FPN inChannels [24, 40, 80, 160]', () => {
  const net = createMobileNetV3({ variant: 'large', family: 'dli14', outIndices: [2, 5, 9, 14] });
  assert.deepEqual(net.options.outIndices.map((i) => net.featureInfo[i].channels), [24, 40, 80, 160]);
});

test('families differ where their sources differ', () => {
  const tv = createMobileNetV3({ variant: 'small', widthMult: 0.5 }).layout;
  const dl = createMobileNetV3({ variant: 'small', widthMult: 0.5, family: 'dli14' }).layout;
  assert.equal(tv.blocks[2].expanded, 48); // make_divisible(88 * 0.5)
  assert.equal(dl.blocks[2].expanded, 56); // make_divisible(16 * 3.67)
  assert.equal(tv.classifierHidden, 512);
  assert.equal(dl.classifierHidden, 1024);
  assert.ok(dl.blocks.every((b) => b.seBeforeActivation === (b.expanded !== b.inChannels)));
  assert.ok(tv.blocks.every((b) => !b.seBeforeActivation));
  assert.equal(createMobileNetV3({ variant: 'large' }).options.bnEps, 1e-3);
  assert.equal(createMobileNetV3({ variant: 'large', family: 'dli14' }).options.bnEps, 1e-5);
  assert.equal(createMobileNetV3({ variant: 'large', family: 'dli14', bnEps: 1e-3 }).options.bnEps, 1e-3);
});

test('makeDivisible rounds like torchvision\'s _make_divisible', () => {
  assert.deepEqual([3.2, 4.8, 12, 134.4, 29.36, 58.72, 18.4, 36].map((v) => makeDivisible(v)), [8, 8, 16, 136, 32, 56, 24, 40]);
});

test('frozenStages marks features[0..i] non-trainable; buffers are never trainable', () => {
  const net = createMobileNetV3({ variant: 'large', frozenStages: 3, numClasses: 5 });
  const layerOf = (name: string) => (name.startsWith('features.') ? Number(name.split('.')[1]) : Infinity);
  for (const p of net.specs) {
    const expected = layerOf(p.name) > 3 && !/running_(mean|var)$/.test(p.name);
    assert.equal(p.trainable, expected, p.name);
  }
});

test('the registry builds both variants and names the closest on a typo', () => {
  const large = backbones.get('mobilenetv3_large')({ widthMult: 0.5, outIndices: [16] });
  assert.equal(large.featureInfo.length, 17);
  assert.equal(backbones.get('mobilenetv3_small')({}).featureInfo.length, 13);
  assert.throws(() => backbones.get('mobilenetv3_lrage'), /Did you mean 'mobilenetv3_large'\?/);
});

test('bad options are InputErrors with exact messages', () => {
  const cases: [Parameters<typeof createMobileNetV3>[0], string][] = [
    [{ variant: 'large', outIndices: [2, 17] }, 'mobilenetv3_large: outIndices entry 17 is out of range (feature layers are 0..16)'],
    [{ variant: 'small', outIndices: [13] }, 'mobilenetv3_small: outIndices entry 13 is out of range (feature layers are 0..12)'],
    [{ variant: 'small', outIndices: [-1] }, 'mobilenetv3_small: outIndices entry -1 is out of range (feature layers are 0..12)'],
    [{ variant: 'large', outIndices: [2, 5, 5] }, 'mobilenetv3_large: outIndices lists 5 twice'],
    [{ variant: 'large', outIndices: [2.5] }, 'mobilenetv3_large: outIndices entry 2.5 is not an integer'],
    [{ variant: 'large', outIndices: [] }, 'mobilenetv3_large: outIndices is empty and there is no classifier (numClasses 0): the model would compute nothing'],
    [{ variant: 'large', frozenStages: 17 }, 'mobilenetv3_large: frozenStages 17 is out of range (-1 freezes nothing, 0..16 freeze features[0..i])'],
    [{ variant: 'large', widthMult: 0 }, 'mobilenetv3_large: widthMult must be a positive number, got 0'],
    [{ variant: 'medium' as 'large' }, "mobilenetv3: variant must be 'large' or 'small', got 'medium'"],
    [{ variant: 'large', family: 'timm' as 'dli14' }, "mobilenetv3_large: family must be 'torchvision' or 'dli14', got 'timm'"],
    [{ variant: 'large', numClasses: -1 }, 'mobilenetv3_large: numClasses must be a non-negative integer, got -1'],
  ];
  for (const [opts, message] of cases) {
    assert.throws(() => createMobileNetV3(opts), (e: unknown) => e instanceof InputError && e.message === message, message);
  }
  assert.deepEqual(createMobileNetV3({ variant: 'large', outIndices: [], numClasses: 3 }).options.outIndices, []);
  assert.deepEqual(createMobileNetV3({ variant: 'large' }).options.outIndices, [16]);
});

test('initWeights: every spec, its shape, torchvision\'s initialisation, seeded', async () => {
  await tf.setBackend('cpu');
  const net = createMobileNetV3({ variant: 'small', widthMult: 0.5, numClasses: 7 });
  const a = net.initWeights(5);
  const b = net.initWeights(5);
  assert.deepEqual(Object.keys(a), net.specs.map((s) => s.name));
  for (const s of net.specs) assert.deepEqual(a[s.name].shape, s.shape, s.name);
  const values = (name: string) => Array.from(a[name].dataSync());
  assert.deepEqual(values('features.3.dw.conv.weight'), Array.from(b['features.3.dw.conv.weight'].dataSync()));
  assert.ok(values('features.3.expand.bn.weight').every((v) => v === 1));
  assert.ok(values('features.3.expand.bn.running_var').every((v) => v === 1));
  assert.ok(values('features.3.expand.bn.running_mean').every((v) => v === 0));
  assert.ok(values('classifier.fc2.bias').every((v) => v === 0));
  // kaiming normal, fan_out: std sqrt(2 / (out * k * k)) for the 1x1 expand conv [1, 1, 16, 48]
  const w = values('features.3.expand.conv.weight');
  const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
  assert.ok(Math.abs(std / Math.sqrt(2 / 48) - 1) < 0.15, `std ${std}`);
  tf.dispose([...Object.values(a), ...Object.values(b)]);
});

test('torchvision trainable_layers 0..6 translate to frozenStages as _mobilenet_extractor freezes', () => {
  // Highest frozen features[i] per trainable_layers, measured with torchvision 0.14.
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map((t) => frozenStagesFromTrainableLayers('large', t)), [16, 15, 12, 6, 3, 1, -1]);
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map((t) => frozenStagesFromTrainableLayers('small', t)), [12, 11, 8, 3, 1, 0, -1]);
  assert.throws(() => frozenStagesFromTrainableLayers('large', 7), {
    name: 'InputError',
    message: 'mobilenetv3_large: trainableLayers must be an integer in [0, 6], got 7',
  });
});
