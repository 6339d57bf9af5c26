// `torchport eval --config CFG --checkpoint DIR`: COCO-style evaluation of a trained detector on
// the config's validation set; prints pycocotools' summary and per-class AP and writes
// `metrics.json` (mmdetection's names) into the work dir.
import type { CommandModule } from 'yargs';
import { InputError } from '../../errors.js';
import { withExamples } from '../examples.js';

interface EvalArgs {
  config: string;
  checkpoint: string;
  data?: string;
  'work-dir'?: string;
  'cfg-options'?: string[];
  backend?: string;
  'skip-bad'?: boolean;
  json?: boolean;
}

const command: CommandModule<object, EvalArgs> = {
  command: 'eval',
  describe: "evaluate a trained detector on the config's validation set (COCO mAP)",
  builder: (y) =>
    withExamples(y, [
      ['eval --config CFG --checkpoint work_dirs/RUN/best --data data/shapes', 'COCO mAP on the validation set'],
      ['eval --config CFG --checkpoint det --cfg-options data.valBatchSize=2 --json', 'a converted model folder, metrics as JSON'],
    ])
      .option('config', { type: 'string', demandOption: true, describe: 'fine-tuning config file (.js or .json)' })
      .option('checkpoint', { type: 'string', demandOption: true, describe: 'model folder: a fine-tuning checkpoint (e.g. WORK_DIR/best) or `torchport convert` output' })
      .option('data', { type: 'string', describe: 'dataset root in COCO layout (sets data.root)' })
      .option('work-dir', { type: 'string', describe: 'where metrics.json goes (default: the config\'s workDir)' })
      .option('cfg-options', { type: 'string', array: true, describe: 'config overrides KEY=VALUE (e.g. data.valBatchSize=2)' })
      .option('backend', { type: 'string', choices: ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'], describe: 'TF.js backend (default: the config\'s)' })
      .option('skip-bad', { type: 'boolean', describe: 'evaluate without the images/annotations the bad-data report lists' })
      .option('json', { type: 'boolean', describe: 'print the metrics as JSON' }),
  handler: async (argv) => {
    const { join, resolve } = await import('node:path');
    const { existsSync } = await import('node:fs');
    const { loadConfig } = await import('../../config/load.js');
    const { validateConfig } = await import('../../config/validate.js');
    const { checkModel } = await import('../../config/model.js');
    const { sourceOf } = await import('../../config/overrides.js');
    const { datasets } = await import('../../data/datasets.js');
    const { evaluateDataset } = await import('../../eval/evaluate.js');
    const { formatSummary, writeMetrics } = await import('../../eval/metrics.js');

    if (!existsSync(argv.checkpoint)) throw new InputError('no such folder', argv.checkpoint);
    const cfgOptions = [...(argv['cfg-options'] ?? [])];
    if (argv['skip-bad']) cfgOptions.push('data.skipBad=true');
    if (argv.backend) cfgOptions.push(`backend=${argv.backend}`);
    const loaded = await loadConfig(argv.config, { cfgOptions, data: argv.data, workDir: argv['work-dir'] });
    const cfg = validateConfig(loaded.config, loaded.file);
    if (cfg.data.root === null) throw new InputError('data.root is not set: pass --data DIR or set data.root in the config', loaded.file);
    const weightsFile = join(argv.checkpoint, 'model.json');
    if (!existsSync(weightsFile)) throw new InputError('not a model folder (no model.json in it)', argv.checkpoint);
    const { selectBackend } = await import('../../backend/select.js');
    const backend = await selectBackend(cfg.backend);
    process.stderr.write(`backend: ${backend.name} (${backend.detail})\n`);
    const dataset = await datasets.get(cfg.data.val.type).load(cfg.data.val, { root: cfg.data.root, skipBad: cfg.data.skipBad, split: 'val' });
    const { detector } = await checkModel(cfg, dataset.labels, sourceOf(loaded.config, 'model', loaded.file));

    const { readCheckpointWeights } = await import('../../train/checkpoint.js');
    const saved = readCheckpointWeights(argv.checkpoint);
    const weights = Object.fromEntries(saved);
    for (const spec of detector.specs) {
      const t = saved.get(spec.name);
      if (!t) throw new InputError(`checkpoint has no weight named ${spec.name}`, weightsFile);
      if (t.shape.join() !== spec.shape.join()) {
        // a fine-tuning run writes the config it trained with next to its checkpoints
        const runConfig = join(argv.checkpoint, '..', 'config.json');
        const hint = existsSync(runConfig) && loaded.file !== resolve(runConfig) ? `; it was trained with ${runConfig}: pass that as --config` : '';
        throw new InputError(`weight ${spec.name} has shape [${t.shape.join(', ')}], the model expects [${spec.shape.join(', ')}]${hint}`, weightsFile);
      }
    }
    const started = Date.now();
    const evaluation = await evaluateDataset(dataset, (images) => detector.predict(weights, images), {
      batchSize: cfg.data.valBatchSize,
      onBatch: (done, total) => process.stderr.isTTY && process.stderr.write(`\revaluating ${done}/${total}`),
    });
    if (process.stderr.isTTY) process.stderr.write('\n');
    for (const t of saved.values()) t.dispose();
    const metricsFile = join(cfg.workDir, 'metrics.json');
    writeMetrics(metricsFile, evaluation.metrics, { checkpoint: argv.checkpoint, images: dataset.length, seconds: (Date.now() - started) / 1000 });
    if (argv.json) {
      process.stdout.write(`${JSON.stringify(evaluation.metrics, null, 2)}\n`);
      return;
    }
    const perClass = evaluation.result.perCategoryAP.map((c) => `  ${c.name.padEnd(20)} ${Number.isNaN(c.ap) ? '  n/a' : c.ap.toFixed(3)}`);
    process.stdout.write(`${formatSummary(evaluation.result)}\nper-class AP:\n${perClass.join('\n')}\nwrote ${metricsFile}\n`);
  },
};

// main.ts registers commands as CommandModule; yargs' builder types the arguments for the handler.
export default command as unknown as CommandModule;
