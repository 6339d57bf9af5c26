// `torchport finetune` as a process on a tiny shapes dataset, starting from the bundled reduced
// torchvision detector: a full run (checkpoints, log, metrics.json), Ctrl-C (saves `latest`, exit
// 130) then --resume ending with exactly the weights of the uninterrupted run, bad input, and a
// customImports plugin seen by the bundled CLI.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeShapesDataset } from '../../src/data/shapes.js';
import { readTfjsWeights } from '../../src/io/tfjs-weights.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'torchport.js');
const tmp = mkdtempSync(join(tmpdir(), 'torchport-finetune-cli-'));
const data = join(tmp, 'shapes');
after(() => rmSync(tmp, { recursive: true, force: true }));
before(async () => {
  await writeShapesDataset(data, { train: 8, val: 4, size: 128, seed: 3, maxShapes: 3 });
});

const args = (workDir: string, ...extra: string[]) => [
  BIN, 'finetune', '--config', 'configs/faster-rcnn_mobilenetv3-large-320-fpn_shapes-demo.js', '--data', data, '--work-dir', workDir, '--backend', 'wasm',
  '--cfg-options', 'model.backbone.widthMult=0.35', 'model.neck.outChannels=32', 'model.roiHead.representationSize=64',
  'load_from=fixtures/fasterrcnn/model.pth', 'data.batchSize=2', 'trainCfg.maxEpochs=2', 'trainCfg.valInterval=2', 'logInterval=1', ...extra,
];
const run = (workDir: string, ...extra: string[]) => spawnSync(process.execPath, args(workDir, ...extra), { encoding: 'utf8', cwd: ROOT });
const weightsOf = (dir: string) => new Map(readTfjsWeights(dir).weights.map((w) => [w.name, Array.from(w.data)]));
const full = join(tmp, 'full');

test('a full run writes latest/, best/, the JSON-lines log and metrics.json', () => {
  const r = run(full);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^finished 8 iterations; bbox_mAP \d\.\d{4}, bbox_mAP_50 \d\.\d{4}\. Files: /);
  assert.match(r.stderr, /^backend: wasm \(/m);
  assert.match(r.stderr, /^load_from: .*model\.pth: mapping torchvision-fasterrcnn → fasterrcnn_mobilenet_v3_large(_320)?_fpn: 284 matched, 0 missing/m);
  assert.match(r.stderr, /^preflight on wasm: ok/m);
  for (const f of ['latest/model.json', 'latest/optimizer/model.json', 'latest/state.json', 'best/model.json', 'config.json']) assert.ok(existsSync(join(full, f)), f);
  const log = readFileSync(join(full, 'train.log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(log.map((r) => r.mode), ['event', ...Array(8).fill('train'), 'val']);
  assert.deepEqual(log.filter((r) => r.mode === 'train').map((r) => r.iteration), [1, 2, 3, 4, 5, 6, 7, 8]);
  const metrics = JSON.parse(readFileSync(join(full, 'metrics.json'), 'utf8'));
  for (const k of ['bbox_mAP', 'bbox_mAP_50', 'bbox_mAP_75', 'bbox_mAP_s', 'bbox_mAP_m', 'bbox_mAP_l']) assert.equal(typeof metrics[k], 'number', k);
  assert.deepEqual(JSON.parse(readFileSync(join(full, 'latest', 'state.json'), 'utf8')).iteration, 8);
});

test('Ctrl-C saves latest and exits 130; --resume then ends with exactly the weights of the uninterrupted run', async () => {
  const work = join(tmp, 'interrupted');
  const child = spawn(process.execPath, args(work), { cwd: ROOT });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
    if (/epoch 1\/2 \[2\/4\]/.test(stderr) && !child.killed) child.kill('SIGINT');
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 130, stderr);
  assert.match(stderr, /interrupted: saving a checkpoint after this iteration/);
  assert.match(stderr, /stopped after iteration \d; resume with --resume/);
  // the signal lands after iteration 2 or a little later: anywhere before the end is a valid test
  const state = JSON.parse(readFileSync(join(work, 'latest', 'state.json'), 'utf8'));
  assert.ok(state.iteration >= 2 && state.iteration < 8, `stopped after iteration ${state.iteration}`);

  const r = run(work, '--resume');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`resumed from .*latest: epoch ${state.epoch}, batch ${state.batch}, iteration ${state.iteration}`));
  // the log's lines, its events and state.json number epochs alike
  const log = readFileSync(join(work, 'train.log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const before = log.slice(0, log.findIndex((x) => x.event === 'interrupted')).filter((x) => x.mode === 'train').at(-1);
  for (const event of ['interrupted', 'resume']) {
    const e = log.find((x) => x.event === event);
    assert.deepEqual([e.epoch, e.batch, e.iteration], [before.epoch, before.iter, before.iteration], event);
  }
  assert.deepEqual([state.epoch, state.batch, state.iteration], [before.epoch, before.iter, before.iteration]);
  assert.deepEqual(weightsOf(join(work, 'latest')), weightsOf(join(full, 'latest')));
  assert.deepEqual(weightsOf(join(work, 'latest', 'optimizer')), weightsOf(join(full, 'latest', 'optimizer')));
});

test('bad input: a missing config and --resume without a checkpoint are one-line errors with exit 2', () => {
  const missing = spawnSync(process.execPath, [BIN, 'finetune', '--config', 'nope.js'], { encoding: 'utf8', cwd: ROOT });
  assert.equal(missing.status, 2);
  assert.equal(missing.stderr.trim().split('\n').length, 1);
  assert.match(missing.stderr, /^torchport: .*nope\.js/);
  // at once: before the data, the backend or the weights, and nothing is left behind
  const noCheckpoint = run(join(tmp, 'empty'), '--resume');
  assert.equal(noCheckpoint.status, 2, noCheckpoint.stderr);
  assert.equal(noCheckpoint.stderr, `torchport: ${join(tmp, 'empty', 'latest')}: no checkpoint to resume from (state.json missing)\n`);
  assert.ok(!existsSync(join(tmp, 'empty')));
  // a model the command line broke names the command line's keys, not only the config file
  const badModel = run(join(tmp, 'bad-model'), 'model.backbone.widthMult=abc');
  assert.equal(badModel.status, 2, badModel.stderr);
  assert.equal(badModel.stderr, `torchport: ${join(ROOT, 'configs/faster-rcnn_mobilenetv3-large-320-fpn_shapes-demo.js')} with --cfg-options model.backbone.widthMult model.neck.outChannels model.roiHead.representationSize: model: mobilenetv3_large: widthMult must be a positive number, got abc\n`);
  assert.ok(!existsSync(join(tmp, 'bad-model')));
});

test('--epochs and --max-iters: shown in --help, checked, and one loop at a time', () => {
  const cli = (...a: string[]) => spawnSync(process.execPath, [BIN, 'finetune', ...a], { encoding: 'utf8', cwd: ROOT });
  const help = cli('--help').stdout;
  assert.match(help, /--epochs +train this many epochs \(trainCfg\.maxEpochs=N, trainCfg\.maxIters=null\)/);
  assert.match(help, /--max-iters +train this many iterations, evaluating and saving at the end/);
  const cases: [string[], string][] = [
    [['--epochs', '2', '--max-iters', '5'], 'torchport: --epochs and --max-iters pick the loop: give one of them'],
    [['--max-iters', '0'], 'torchport: --max-iters must be a positive integer, got 0'],
    [['--epochs', '1.5'], 'torchport: --epochs must be a positive integer, got 1.5'],
  ];
  for (const [flags, message] of cases) {
    const r = cli('--config', 'configs/faster-rcnn_mobilenetv3-large-320-fpn_shapes-demo.js', ...flags);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr, `${message}\n`);
  }
  const both = run(join(tmp, 'both'), '--cfg-options', 'trainCfg.maxIters=3');
  assert.equal(both.status, 2, both.stderr);
  // named by the flag that set it (or by the config file, where the config set it)
  assert.match(both.stderr, /^torchport: (--cfg-options |.*shapes-demo\.js: )trainCfg\.maxIters: 3, but trainCfg\.maxEpochs is 2: set one of them to null \(`finetune --epochs N` \/ `--max-iters N` do that\)\n$/);
  assert.ok(!existsSync(join(tmp, 'both')));
});

test('load_from with other model options: the error says which --cfg-options match, and no work dir is left', () => {
  const work = join(tmp, 'mismatch');
  const r = spawnSync(process.execPath, [
    BIN, 'finetune', '--config', 'configs/faster-rcnn_mobilenetv3-large-320-fpn_shapes-demo.js', '--data', data, '--work-dir', work, '--backend', 'wasm',
    '--cfg-options', 'load_from=fixtures/fasterrcnn/model.pth', 'model.neck.outChannels=32',
  ], { encoding: 'utf8', cwd: ROOT });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`^torchport: ${join(ROOT, 'fixtures/fasterrcnn/model.pth')}: load_from: weight 'backbone\\.features\\.0\\.conv\\.weight' has shape \\[3, 3, 3, 8\\], the configured model needs \\[3, 3, 3, 16\\]; the checkpoint is a fasterrcnn_mobilenet_v3_large_fpn with other options: add --cfg-options model\\.backbone\\.widthMult=0\\.35 model\\.roiHead\\.representationSize=64\n$`, 'm'));
  assert.ok(!existsSync(work));
});

test("the README's fine-tuning commands run as written (with 2 iterations): convert the bundled detector, make the dataset, fine-tune from it, detect on a folder", () => {
  const usage = readFileSync(join(ROOT, 'README.md'), 'utf8').split('## Usage')[1].split('```')[1];
  const lines = usage.split('\n').map((l) => l.replace(/\s+#.*$/, '').trim());
  const finetuneLine = lines.find((l) => l.startsWith('torchport finetune'))!;
  const dir = lines.find((l) => l.includes('load_from='))!.match(/load_from=(\S+)/)![1];
  const sequence = [
    lines.find((l) => l.startsWith('torchport convert') && l.endsWith(`--out ${dir}`))!,
    lines.find((l) => l.startsWith('torchport make-dataset'))!,
    finetuneLine,
    lines.find((l) => l.startsWith('torchport detect work_dirs/faster-rcnn_mobilenetv3-large-320-fpn_shapes-demo/best'))!,
  ];
  assert.ok(sequence.every(Boolean), `README lines: ${sequence.join(' | ')}`);
  // the README's relative paths, from a fresh folder
  const cwd = mkdtempSync(join(tmp, 'readme-'));
  for (const d of ['assets', 'configs', 'fixtures']) symlinkSync(join(ROOT, d), join(cwd, d));
  for (const line of sequence) {
    const argv = line.replace(/--max-iters \d+/, '--max-iters 2').split(/\s+/).slice(1);
    const r = spawnSync(process.execPath, [BIN, ...argv, ...(argv[0] === 'finetune' ? ['--backend', 'wasm'] : [])], { encoding: 'utf8', cwd });
    assert.equal(r.status, 0, `${line}\n${r.stderr}`);
    if (argv[0] === 'finetune') {
      assert.match(r.stderr, new RegExp(`^load_from: ${join(cwd, dir)}: 284 converted weights$`, 'm'));
      assert.match(r.stderr, /^initialised fresh \(seed 0\): 0 of 284 parameters$/m);
      assert.match(r.stdout, /^finished 2 iterations; bbox_mAP \d\.\d{4}, bbox_mAP_50 \d\.\d{4}\. Files: /);
      assert.ok(existsSync(join(cwd, 'work_dirs/faster-rcnn_mobilenetv3-large-320-fpn_shapes-demo/best/model.json')));
    }
    if (argv[0] === 'detect') {
      assert.match(r.stderr, /^drew the detections on 30 image\(s\) in drawn$/m);
      assert.deepEqual(readdirSync(join(cwd, 'drawn')), readdirSync(join(cwd, 'data/shapes/val')).map((f) => f.replace(/\.\w+$/, '.png')));
    }
  }
});

test('a customImports plugin registers into the CLI\'s own registries (the CLI is a bundle)', () => {
  writeFileSync(join(tmp, 'plugin.js'), `export default function register({ backbones }) {
  backbones.register('cli_plugin_net', (options) => backbones.get('mobilenetv3_large')(options));
}\n`);
  // A wrong neck.inChannels stops the run at the model check, which needs the plugin's backbone.
  writeFileSync(join(tmp, 'plugin-config.js'), `export default {
  _base_: ${JSON.stringify(join(ROOT, 'configs', 'faster-rcnn_mobilenetv3-large-320-fpn_shapes-demo.js'))},
  customImports: ['./plugin.js'],
  model: { backbone: { type: 'cli_plugin_net' }, neck: { inChannels: [1, 2] } },
};\n`);
  const r = spawnSync(process.execPath, [BIN, 'finetune', '--config', join(tmp, 'plugin-config.js'), '--data', data, '--work-dir', join(tmp, 'plugin')], { encoding: 'utf8', cwd: ROOT });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^torchport: .*plugin-config\.js: model: neck\.inChannels \[1, 2\] disagree with the backbone's outputs \[160, 960\]/);
});
