import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/load.js';
import { mergeConfig } from '../../src/config/merge.js';
import { checkModel } from '../../src/config/model.js';
import { applyOverrides, parseOverrideValue, parseOverrides, sourceOf } from '../../src/config/overrides.js';
import { validateConfig } from '../../src/config/validate.js';
import { resolveWeightSources } from '../../src/config/weights.js';
import { LabelMap } from '../../src/data/coco.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const fx = (p: string): string => join(here, 'fixtures', p);
const repo = resolve(here, '../..');
const DEMO = join(repo, 'configs/faster-rcnn_mobilenetv3-large-320-fpn_shapes-demo.js');
const SHAPES = new LabelMap([
  { id: 1, name: 'rectangle' },
  { id: 2, name: 'ellipse' },
  { id: 3, name: 'triangle' },
]);

test('_base_ lists merge in order; the child deep-merges; _delete_ replaces; lists replace', async () => {
  const { config, files } = await loadConfig(fx('child.js'));
  assert.deepEqual(config.model, {
    backbone: { type: 'mobilenetv3_large', outIndices: [2, 5], widthMult: 1 },
    neck: { type: 'FPN' },
  });
  assert.equal(config.lr, 0.02);
  // data.root is a path: made absolute relative to the JSON base that set it.
  assert.deepEqual(config.data, { root: fx('data/here'), batchSize: 2 });
  assert.deepEqual(files, [fx('base-a.js'), fx('base-b.json'), fx('child.js')]);
});

test('a key defined in two sibling bases is an error naming both files', async () => {
  await assert.rejects(loadConfig(fx('siblings/top.js')), {
    message: `${fx('siblings/top.js')}: 'optimizer' is defined in two _base_ files: ${fx('siblings/one.js')} and ${fx('siblings/two.js')}; keep it in one of them`,
  });
});

test('bad files: missing, cycle, not an object, missing base', async () => {
  await assert.rejects(loadConfig(fx('nope.js')), { message: `${fx('nope.js')}: config file not found` });
  await assert.rejects(loadConfig(fx('cycle-a.js')), /_base_ cycle: .*cycle-a\.js -> .*cycle-b\.js -> .*cycle-a\.js/);
  await assert.rejects(loadConfig(fx('not-object.js')), { message: `${fx('not-object.js')}: a config module must \`export default { ... }\` an object` });
});

test('paths in a base resolve against that base file; init_cfg.checkpoint at any depth', async () => {
  const { config } = await loadConfig(fx('uses-nested.js'));
  assert.equal(config.load_from, fx('sub/weights/det.pth'));
  assert.equal((config.model as any).backbone.init_cfg.checkpoint, fx('sub/bb.pth'));
  assert.deepEqual(config.customImports, [fx('plugin/my-backbone.js')]);
});

test('override values are typed like mmengine DictAction', () => {
  assert.equal(parseOverrideValue('3'), 3);
  assert.equal(parseOverrideValue('1e-3'), 0.001);
  assert.equal(parseOverrideValue('-0.5'), -0.5);
  assert.equal(parseOverrideValue('true'), true);
  assert.equal(parseOverrideValue('False'), false);
  assert.equal(parseOverrideValue('null'), null);
  assert.equal(parseOverrideValue('None'), null);
  assert.equal(parseOverrideValue('wasm'), 'wasm');
  assert.equal(parseOverrideValue("'12'"), '12');
  assert.deepEqual(parseOverrideValue('[1,2]'), [1, 2]);
  assert.deepEqual(parseOverrideValue('[[1, 2], [3]]'), [[1, 2], [3]]);
  assert.deepEqual(parseOverrideValue('[a, "b,c"]'), ['a', 'b,c']);
  assert.deepEqual(parseOverrideValue('[]'), []);
  assert.throws(() => parseOverrides(['lr']), { message: "--cfg-options: 'lr' is not KEY=VALUE (e.g. optimizer.lr=0.01)" });
});

test('overrides: dotted paths, list indices, new keys; out-of-range index is an error', () => {
  const cfg = { a: { b: 1 }, list: [{ x: 1 }, { x: 2 }] };
  const out = applyOverrides(cfg, parseOverrides(['a.b=2', 'list.1.x=5', 'a.c.d=[1,2]']));
  assert.deepEqual(out, { a: { b: 2, c: { d: [1, 2] } }, list: [{ x: 1 }, { x: 5 }] });
  assert.deepEqual(cfg.a, { b: 1 }, 'the input is not modified');
  assert.throws(() => applyOverrides(cfg, [['list.2.x', 1]]), { message: '--cfg-options: index 2 is out of range for list (length 2)' });
  assert.throws(() => applyOverrides(cfg, [['a.b.c', 1]]), { message: '--cfg-options: cannot go into a.b: it is 1, not an object or list' });
});

test('merging an object onto a scalar asks for _delete_', () => {
  assert.throws(() => mergeConfig({ a: 1 }, { a: { b: 2 } }), { message: 'a is an object here but number 1 in a base config; set a._delete_ = true to replace it' });
});

test('the shipped configs load, validate and build; --data and --cfg-options apply last', async () => {
  const loaded = await loadConfig(DEMO, { data: 'elsewhere', cfgOptions: ['optimizer.lr=0.005', 'paramScheduler.1.milestones=[3]'], cwd: '/tmp' });
  const cfg = validateConfig(loaded.config, loaded.file);
  assert.equal(cfg.data.root, '/tmp/elsewhere');
  assert.equal(cfg.optimizer.lr, 0.005);
  assert.deepEqual(cfg.paramScheduler[1].milestones, [3]);
  assert.equal(cfg.workDir, '/tmp/work_dirs/faster-rcnn_mobilenetv3-large-320-fpn_shapes-demo');
  const { config } = await checkModel(cfg, SHAPES);
  assert.equal(config.roiHead.numClasses, 4);
  assert.deepEqual(config.classNames, ['rectangle', 'ellipse', 'triangle']);
  assert.equal(config.transform.minSize, 160);
  assert.equal(config.rpn.batchSizePerImage, 64);
  for (const name of ['faster-rcnn_mobilenetv3-large-320-fpn_1x_coco.js', 'faster-rcnn_mobilenetv3-large-dli14-fpn_1x_coco.js']) {
    const l = await loadConfig(join(repo, 'configs', name));
    const c = validateConfig(l.config, l.file);
    const { detector } = await checkModel(c, SHAPES);
    if (name.includes('dli14')) {
      // The write-up's neck, derived instead of retyped: FPN(in_channels=[24, 40, 80, 160], num_outs=5).
      assert.equal(detector.neck.numOuts, 5);
      assert.deepEqual(detector.backbone.featureInfo.filter((f) => [2, 5, 9, 14].includes(f.index)).map((f) => f.channels), [24, 40, 80, 160]);
    } else {
      assert.equal(c.model.transform.minSize, 320);
      assert.deepEqual(c.model.rpn.preNmsTopN, { train: 2000, test: 150 });
    }
  }
});

test('validation errors name the key path and what is allowed; a value the command line set names its flag, not the file', async () => {
  const bad = async (opts: string[], more: { data?: string; workDir?: string } = {}): Promise<string> => {
    const l = await loadConfig(DEMO, { cfgOptions: opts, ...more });
    try {
      validateConfig(l.config, l.file);
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  };
  assert.equal(await bad(['optimizer.lr=-1']), '--cfg-options optimizer.lr: expected a number > 0, got -1');
  assert.equal(await bad(['backend=gpu']), '--cfg-options backend: expected one of "auto", "tensorflow", "webgpu", "wasm", "cpu", got "gpu"');
  assert.equal(await bad(['model.neck.outChanels=128']), "--cfg-options model.neck.outChanels: unknown key (did you mean 'outChannels'?); allowed: type, inChannels, outChannels, numOuts, extra, reluBeforeExtraConvs");
  assert.equal(await bad(['data.train.pipeline.0.prob=2']), '--cfg-options data.train.pipeline.0.prob: expected a number >= 0 and <= 1, got 2');
  assert.equal(
    await bad(['paramScheduler.0.type=LinearLr']),
    "--cfg-options paramScheduler.0.type: unknown scheduler 'LinearLr'. Did you mean 'LinearLR'? Registered: CosineAnnealingLR, LinearLR, MultiStepLR, StepLR. To add one, call register('LinearLr', ...) on the scheduler registry in a module listed in the config's customImports.",
  );
  // an object set on the command line owns the keys below it
  assert.equal(await bad(['optimizer={"type": "SGD", "lr": "x"}']), '--cfg-options optimizer.lr: expected a number > 0, got "x"');
  assert.equal(await bad([], { workDir: '' }), '--work-dir workDir: expected a non-empty string, got ""');
  assert.match(await bad(['trainCfg.maxEpochs=0', 'seed=1.5']), /^2 problems:\n {2}--cfg-options trainCfg\.maxEpochs: expected an integer >= 1, or one of null, got 0\n {2}--cfg-options seed: expected an integer >= 0, got 1\.5$/);
  // the same wrong value written in a config file names the file
  const l = await loadConfig(DEMO);
  (l.config.optimizer as Record<string, unknown>).lr = -1;
  assert.throws(() => validateConfig(l.config, l.file), { message: `${DEMO}: optimizer.lr: expected a number > 0, got -1` });
});

test('a problem with the model built from the config names the file and the --cfg-options that changed the model', async () => {
  const l = await loadConfig(DEMO, { cfgOptions: ['model.backbone.widthMult=abc', 'model.neck.outChannels=32', 'seed=3'], data: 'd' });
  assert.equal(sourceOf(l.config, 'model', l.file), `${DEMO} with --cfg-options model.backbone.widthMult model.neck.outChannels`);
  assert.equal(sourceOf(l.config, 'data', l.file), `${DEMO} with --data data.root`);
  assert.equal(sourceOf(l.config, 'optimizer', l.file), DEMO);
  await assert.rejects(checkModel(validateConfig(l.config, l.file), SHAPES, sourceOf(l.config, 'model', l.file)), {
    message: `${DEMO} with --cfg-options model.backbone.widthMult model.neck.outChannels: model: mobilenetv3_large: widthMult must be a positive number, got abc`,
  });
});

test('config files: a directory, a JS syntax error and a JSON syntax error give the place', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'torchport-config-'));
  try {
    await assert.rejects(loadConfig(dir), { message: `${dir}: is a directory, not a config file (.js, .mjs, .cjs or .json)` });
    writeFileSync(join(dir, 'bad.js'), 'export default {\n  a: 1,\n  b: 2 3,\n};\n');
    await assert.rejects(loadConfig(join(dir, 'bad.js')), { message: `${join(dir, 'bad.js')}:3:8: syntax error: Unexpected number` });
    writeFileSync(join(dir, 'bad.json'), '{\n  "a": 1,\n  "b": 2 3\n}\n');
    await assert.rejects(loadConfig(join(dir, 'bad.json')), { message: `${join(dir, 'bad.json')}:3:10: not valid JSON: Expected ',' or '}' after property value` });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unknown backbone says what is registered, the closest name, and how to register', async () => {
  const l = await loadConfig(DEMO, { cfgOptions: ['model.backbone.type=mobilenetv3_larg'] });
  // (plugin_mobilenet is registered too once another test has loaded the plugin.)
  await assert.rejects(
    checkModel(validateConfig(l.config), SHAPES),
    new RegExp(
      "model\\.backbone\\.type: unknown backbone 'mobilenetv3_larg'\\. Did you mean 'mobilenetv3_large'\\? " +
        'Registered: mobilenetv3_large, mobilenetv3_small(, plugin_mobilenet)?\\. ' +
        "To add one, call register\\('mobilenetv3_larg', \\.\\.\\.\\) on the backbone registry in a module listed in the config's customImports\\.$",
    ),
  );
});

test('neck.inChannels: derived when auto, both lists shown when wrong', async () => {
  const l = await loadConfig(DEMO, { cfgOptions: ['model.neck.inChannels=[160,961]'] });
  await assert.rejects(checkModel(validateConfig(l.config), SHAPES), {
    message: "model: neck.inChannels [160, 961] disagree with the backbone's outputs [160, 960] (outIndices [13, 16]); use inChannels: 'auto'",
  });
  const ok = await loadConfig(DEMO, { cfgOptions: ['model.neck.inChannels=[160,960]'] });
  await checkModel(validateConfig(ok.config), SHAPES);
});

test('numClasses set by hand must match the dataset', async () => {
  const l = await loadConfig(DEMO, { cfgOptions: ['model.roiHead.numClasses=91'] });
  await assert.rejects(checkModel(validateConfig(l.config), SHAPES), {
    message: "model.roiHead.numClasses is 91 but the dataset has 3 categories (rectangle, ellipse, triangle) + background = 4; set it to 4 or 'auto'",
  });
});

test('customImports really registers a plugin backbone before the model is built', async () => {
  const l = await loadConfig(fx('plugin/config.js'));
  assert.deepEqual(l.imported, [fx('plugin/my-backbone.js')]);
  const { detector, config } = await checkModel(validateConfig(l.config), SHAPES);
  assert.equal(config.backbone.type, 'plugin_mobilenet');
  assert.ok(detector.specs.length > 0);
});

test('a plugin may default-export a function that receives the registries (no torchport import needed)', async () => {
  await loadConfig(fx('plugin/config-fn.js'));
  const l = await loadConfig(fx('plugin/config-fn.js')); // loading again does not register twice
  const { detector } = await checkModel(validateConfig(l.config), SHAPES);
  assert.equal(detector.config.backbone.type, 'fn_mobilenet');
  assert.deepEqual(detector.backbone.featureInfo.filter((f) => [8, 12].includes(f.index)).map((f) => f.channels), [48, 576]);
});

test('customImports works in the built CLI too (plain node, dist/): the plugin reaches the same registries', () => {
  // Run `npm run build` first (`npm test` does).
  const script = `
    const { loadConfig } = await import(${JSON.stringify(join(repo, 'dist/config/load.js'))});
    const { validateConfig } = await import(${JSON.stringify(join(repo, 'dist/config/validate.js'))});
    const { checkModel } = await import(${JSON.stringify(join(repo, 'dist/config/model.js'))});
    const { LabelMap } = await import(${JSON.stringify(join(repo, 'dist/data/coco.js'))});
    const l = await loadConfig(${JSON.stringify(fx('plugin/config-fn.js'))});
    const { detector } = await checkModel(validateConfig(l.config), new LabelMap([{ id: 1, name: 'a' }]));
    process.stdout.write(detector.config.backbone.type + ' ' + detector.specs.length);
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^fn_mobilenet \d+$/);
});

test('a plugin that fails to load is named, with its own error', async () => {
  await assert.rejects(loadConfig(fx('plugin/config.js'), { cfgOptions: ['customImports=[./broken.js]'], cwd: fx('plugin') }), {
    message: `${fx('plugin/config.js')}: customImports: ${fx('plugin/broken.js')} failed to load: plugin exploded on purpose`,
  });
  await assert.rejects(loadConfig(fx('plugin/config.js'), { cfgOptions: ['customImports=[./missing.js]'], cwd: fx('plugin') }), {
    message: `${fx('plugin/config.js')}: customImports: ${fx('plugin/missing.js')} does not exist (paths are relative to the config file that lists them)`,
  });
});

test('init_cfg and load_from resolve to weight sources; a missing checkpoint names the key', async () => {
  const l = await loadConfig(join(repo, 'configs/faster-rcnn_mobilenetv3-large-dli14-fpn_1x_coco.js'));
  const cfg = validateConfig(l.config);
  assert.throws(() => resolveWeightSources(cfg), {
    message: `model.backbone.init_cfg.checkpoint: ${join(repo, 'pretrain/mobilenetv3-large-1cd25616.pth')} does not exist (paths are relative to the config file that sets them)`,
  });
  const withFiles = await loadConfig(DEMO, {
    cfgOptions: [`model.backbone.init_cfg={"type":"Pretrained","checkpoint":"${fx('base-b.json')}","prefix":"backbone."}`, `load_from=${fx('child.js')}`],
  });
  assert.deepEqual(resolveWeightSources(validateConfig(withFiles.config)), [
    { origin: 'model.backbone.init_cfg', target: 'backbone', checkpoint: fx('base-b.json'), prefix: 'backbone.', model: 'mobilenetv3_large' },
    { origin: 'load_from', target: 'detector', checkpoint: fx('child.js') },
  ]);
});

test("the torchvision 320 config restates exactly torchvision's settings (as the detector's own defaults hold them)", async () => {
  const { fasterrcnnMobileNetV3Large320FPN } = await import('../../src/models/faster-rcnn/config.js');
  const l = await loadConfig(join(repo, 'configs', 'faster-rcnn_mobilenetv3-large-320-fpn_1x_coco.js'));
  const { config } = await checkModel(validateConfig(l.config, l.file), SHAPES);
  const reference = fasterrcnnMobileNetV3Large320FPN({ numClasses: SHAPES.numClasses });
  assert.deepEqual(config.rpn, reference.rpn);
  // classLayout left out means torchvision's (background first).
  assert.deepEqual({ classLayout: 'torchvision', ...config.roiHead, classNames: undefined }, { ...reference.roiHead, classNames: undefined });
  assert.deepEqual(config.transform, reference.transform);
  assert.deepEqual(config.neck, reference.neck);
});
