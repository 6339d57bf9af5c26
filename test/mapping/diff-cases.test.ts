// Diff reports asserted exactly: a wrong-architecture checkpoint (resnet18's real keys and shapes)
// and a checkpoint missing one block; plus suggestions for renamed keys.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectForSources, mapCheckpoint } from '../../src/models/map-checkpoint.js';
import { buildReport, renderReport } from '../../src/mapping/report.js';
import { capturesOf, fillTemplate, parseTemplate } from '../../src/mapping/template.js';

const CASES = 'fixtures/mapping';

test('resnet18 checked against mobilenetv3_large: nothing loads, the report says so, exit-worthy', () => {
  const { report } = mapCheckpoint(`${CASES}/resnet18_keys.pth`, { model: 'mobilenetv3_large' });
  assert.equal(report.mapping.fingerprintMatched, false);
  assert.deepEqual(report.summary, {
    matched: 0, missing: 258, unexpected: 98, shapeMismatch: 4, ignored: 20, conflicts: 0,
    loadedParams: 0, totalParams: 2996352, loadedShare: 0, complete: false,
  });
  assert.deepEqual(report.suggestions, []);
  const text = renderReport(report).split('\n');
  assert.match(text[0], /^mapping: \S+ → mobilenetv3_large /);
  assert.match(text[1], /^detected: no mapping recognises this checkpoint \(no fingerprint matched\); the closest one is shown/);
  assert.deepEqual(text.slice(2), [
    "summary: 0 matched, 258 missing, 98 unexpected, 4 shape mismatches, 20 ignored; loaded 0.0% of the model's parameters (0 of 2,996,352)",
    'note: almost nothing loaded — this checkpoint does not look like a mobilenetv3_large in any known layout (wrong architecture, or a layout that needs a mapping file: see mappings/README.md)',
    'missing (in the model, not in the checkpoint) (258):',
    '  features.{0,16}.conv.weight 2 shapes',
    '  features.{1..15}.dw.conv.weight 12 shapes',
    '  features.{1..15}.dw.bn.{weight,bias,running_mean,running_var} 10 shapes',
    '  features.{1..15}.project.conv.weight 12 shapes',
    '  features.{1..15}.project.bn.{weight,bias,running_mean,running_var} 6 shapes',
    '  features.{2..15}.expand.conv.weight 9 shapes',
    '  features.{2..15}.expand.bn.{weight,bias,running_mean,running_var} 9 shapes',
    '  features.{4..6,11..15}.se.fc1.{weight,bias} 5 shapes',
    '  features.{4..6,11..15}.se.fc2.{weight,bias} 5 shapes',
    '  features.16.bn.{weight,bias,running_mean,running_var} [960]',
    'unexpected (in the checkpoint, not used) (98):',
    '  conv1.weight [64, 3, 7, 7]',
    '  layer1.{0,1}.conv1.weight [64, 64, 3, 3]',
    '  layer1.{0,1}.bn1.{weight,bias,running_mean,running_var} [64]',
    '  layer1.{0,1}.conv2.weight [64, 64, 3, 3]',
    '  layer1.{0,1}.bn2.{weight,bias,running_mean,running_var} [64]',
    '  layer2.{0,1}.conv1.weight 2 shapes',
    '  layer2.{0,1}.bn1.{weight,bias,running_mean,running_var} [128]',
    '  layer2.{0,1}.conv2.weight [128, 128, 3, 3]',
    '  layer2.{0,1}.bn2.{weight,bias,running_mean,running_var} [128]',
    '  layer2.0.downsample.{0,1}.weight 2 shapes',
    '  layer2.0.downsample.1.{bias,running_mean,running_var} [128]',
    '  layer3.{0,1}.conv1.weight 2 shapes',
    '  layer3.{0,1}.bn1.{weight,bias,running_mean,running_var} [256]',
    '  layer3.{0,1}.conv2.weight [256, 256, 3, 3]',
    '  layer3.{0,1}.bn2.{weight,bias,running_mean,running_var} [256]',
    '  layer3.0.downsample.{0,1}.weight 2 shapes',
    '  layer3.0.downsample.1.{bias,running_mean,running_var} [256]',
    '  layer4.{0,1}.conv1.weight 2 shapes',
    '  layer4.{0,1}.bn1.{weight,bias,running_mean,running_var} [512]',
    '  layer4.{0,1}.conv2.weight [512, 512, 3, 3]',
    '  layer4.{0,1}.bn2.{weight,bias,running_mean,running_var} [512]',
    '  layer4.0.downsample.{0,1}.weight 2 shapes',
    '  layer4.0.downsample.1.{bias,running_mean,running_var} [512]',
    '  fc.weight [1000, 512]',
    '  fc.bias [1000]',
    'shape mismatches (4):',
    "  bn1.weight [64] → features.0.bn.weight: converted shape [64] differs from the model's [16] [timm-mobilenetv3/stem-bn]",
    "  bn1.bias [64] → features.0.bn.bias: converted shape [64] differs from the model's [16] [timm-mobilenetv3/stem-bn]",
    "  bn1.running_mean [64] → features.0.bn.running_mean: converted shape [64] differs from the model's [16] [timm-mobilenetv3/stem-bn]",
    "  bn1.running_var [64] → features.0.bn.running_var: converted shape [64] differs from the model's [16] [timm-mobilenetv3/stem-bn]",
    'ignored on purpose (20):',
    '  bn1.num_batches_tracked: BatchNorm step counter (int64), not a weight [timm-mobilenetv3/bn-counter]',
    '  layer1.{0,1}.bn1.num_batches_tracked: BatchNorm step counter (int64), not a weight [timm-mobilenetv3/bn-counter]',
    '  layer1.{0,1}.bn2.num_batches_tracked: BatchNorm step counter (int64), not a weight [timm-mobilenetv3/bn-counter]',
    '  layer2.{0,1}.bn1.num_batches_tracked: BatchNorm step counter (int64), not a weight [timm-mobilenetv3/bn-counter]',
    '  layer2.{0,1}.bn2.num_batches_tracked: BatchNorm step counter (int64), not a weight [timm-mobilenetv3/bn-counter]',
    '  layer2.0.downsample.1.num_batches_tracked: BatchNorm step counter (int64), not a weight [timm-mobilenetv3/bn-counter]',
    '  layer3.{0,1}.bn1.num_batches_tracked: BatchNorm step counter (int64), not a weight [timm-mobilenetv3/bn-counter]',
    '  layer3.{0,1}.bn2.num_batches_tracked: BatchNorm step counter (int64), not a weight [timm-mobilenetv3/bn-counter]',
    '  layer3.0.downsample.1.num_batches_tracked: BatchNorm step counter (int64), not a weight [timm-mobilenetv3/bn-counter]',
    '  layer4.{0,1}.bn1.num_batches_tracked: BatchNorm step counter (int64), not a weight [timm-mobilenetv3/bn-counter]',
    '  layer4.{0,1}.bn2.num_batches_tracked: BatchNorm step counter (int64), not a weight [timm-mobilenetv3/bn-counter]',
    '  layer4.0.downsample.1.num_batches_tracked: BatchNorm step counter (int64), not a weight [timm-mobilenetv3/bn-counter]',
    'rules that matched nothing: timm-mobilenetv3/head-unused, timm-mobilenetv3/stem-conv, timm-mobilenetv3/se, timm-mobilenetv3/depthwise-separable, timm-mobilenetv3/last-conv, timm-mobilenetv3/inverted-residual, timm-mobilenetv3/head-conv, timm-mobilenetv3/head-fc',
  ]);
});

test('a checkpoint missing block 5: exactly that block is missing, nothing else is off', () => {
  const { report } = mapCheckpoint(`${CASES}/tv_small_missing_block5.pth`);
  assert.equal(report.mapping.name, 'torchvision-mobilenetv3');
  assert.equal(report.model.name, 'mobilenetv3_small');
  assert.deepEqual(report.summary, {
    matched: 191, missing: 19, unexpected: 0, shapeMismatch: 0, ignored: 31, conflicts: 0,
    loadedParams: 87154, totalParams: 91138, loadedShare: 87154 / 91138, complete: false,
  });
  assert.deepEqual(report.missing.map((m) => m.target), [
    'features.5.expand.conv.weight', 'features.5.expand.bn.weight', 'features.5.expand.bn.bias', 'features.5.expand.bn.running_mean', 'features.5.expand.bn.running_var',
    'features.5.dw.conv.weight', 'features.5.dw.bn.weight', 'features.5.dw.bn.bias', 'features.5.dw.bn.running_mean', 'features.5.dw.bn.running_var',
    'features.5.se.fc1.weight', 'features.5.se.fc1.bias', 'features.5.se.fc2.weight', 'features.5.se.fc2.bias',
    'features.5.project.conv.weight', 'features.5.project.bn.weight', 'features.5.project.bn.bias', 'features.5.project.bn.running_mean', 'features.5.project.bn.running_var',
  ]);
  const text = renderReport(report).split('\n');
  const from = text.indexOf('missing (in the model, not in the checkpoint) (19):');
  assert.deepEqual(text.slice(from), [
    'missing (in the model, not in the checkpoint) (19):',
    '  features.5.expand.conv.weight [1, 1, 8, 48]',
    '  features.5.expand.bn.{weight,bias,running_mean,running_var} [48]',
    '  features.5.dw.conv.weight [5, 5, 48, 1]',
    '  features.5.dw.bn.{weight,bias,running_mean,running_var} [48]',
    '  features.5.se.fc1.weight [48, 16]',
    '  features.5.se.fc1.bias [16]',
    '  features.5.se.fc2.weight [16, 48]',
    '  features.5.se.fc2.bias [48]',
    '  features.5.project.conv.weight [1, 1, 48, 8]',
    '  features.5.project.bn.{weight,bias,running_mean,running_var} [8]',
    'ignored on purpose (31):',
    '  features.{0,12}.1.num_batches_tracked: BatchNorm step counter (int64), not a weight [torchvision-mobilenetv3/bn-counter]',
    '  features.{1..4,6..11}.block.{0..3}.1.num_batches_tracked: BatchNorm step counter (int64), not a weight [torchvision-mobilenetv3/bn-counter]',
    'rules that matched nothing: torchvision-mobilenetv3/head-unused',
  ]);
  assert.equal(text[2], "summary: 191 matched, 19 missing, 0 unexpected, 0 shape mismatches, 31 ignored; loaded 95.6% of the model's parameters (87,154 of 91,138)");
});

test('renamed keys get a same-shape counterpart as a ready-to-paste rule (one rule with captures for many)', () => {
  const { sources } = mapCheckpoint('fixtures/mobilenetv3/tv_small.pth');
  // An unknown fork renamed the depthwise conv of every expanded block and one projection BN weight.
  const renamed = sources.map((s) => ({
    ...s,
    key: s.key.replace(/^features\.(\d+)\.block\.1\.0\.weight$/, (k, i) => (Number(i) >= 2 ? `features.${i}.block.1.dwconv.weight` : k))
      .replace(/^features\.3\.block\.2\.1\.weight$/, 'features.3.proj_bn.gamma'),
  }));
  const report = buildReport(detectForSources(renamed));
  assert.equal(report.summary.missing, 11);
  assert.deepEqual(report.suggestions.map((g) => [g.rule, g.pairs.length]), [
    [{ id: 'suggested-1', from: '^features\\.(?<n0>\\d+)\\.block\\.1\\.dwconv\\.weight$', to: 'features.{n0}.dw.conv.weight' }, 10],
  ]);
  assert.equal(report.suggestions[0].pairs[0].confidence.toFixed(2), '0.73');
  // The rule does what it says for every pair it covers.
  const { rule, pairs } = report.suggestions[0];
  for (const p of pairs) {
    const m = new RegExp(rule.from).exec(p.source);
    assert.ok(m, p.source);
    assert.equal(fillTemplate(parseTemplate(rule.to), capturesOf(m), {}), p.target);
  }
});

test("d-li14's older checkpoints name the head classifier.1/.5 (d-li14 issue #11): still a complete load", () => {
  const { sources } = mapCheckpoint('fixtures/mobilenetv3/dli14_large.pth');
  const old = sources.map((s) => ({ ...s, key: s.key.replace(/^classifier\.0\./, 'classifier.1.').replace(/^classifier\.3\./, 'classifier.5.') }));
  const report = buildReport(detectForSources(old));
  assert.equal(report.mapping.name, 'dli14-mobilenetv3');
  assert.equal(report.model.options.numClasses, 10);
  assert.equal(report.summary.complete, true);
  assert.deepEqual(report.matched.filter((m) => m.target.startsWith('classifier.')).map((m) => [m.source, m.target]), [
    ['classifier.1.weight', 'classifier.fc1.weight'], ['classifier.1.bias', 'classifier.fc1.bias'],
    ['classifier.5.weight', 'classifier.fc2.weight'], ['classifier.5.bias', 'classifier.fc2.bias'],
  ]);
});
