// `torchport finetune --config CFG`: fine-tune a detector from a config file (see src/train/finetune.ts).
import type { CommandModule } from 'yargs';
import { InputError } from '../../errors.js';
import { withExamples } from '../examples.js';
import { readOptionsOf, withReadingArgs, type ReadingArgs } from '../reading-flags.js';

interface FinetuneArgs extends ReadingArgs {
  config: string;
  data?: string;
  'work-dir'?: string;
  'cfg-options'?: string[];
  resume?: boolean;
  'skip-bad'?: boolean;
  backend?: 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
  threads?: number;
  key?: string;
  epochs?: number;
  'max-iters'?: number;
}

/** `--epochs N` / `--max-iters N` as the config overrides they stand for (given first, so --cfg-options win). */
function loopOptions(argv: FinetuneArgs): string[] {
  const { epochs, 'max-iters': iters } = argv;
  if (epochs !== undefined && iters !== undefined) throw new InputError('--epochs and --max-iters pick the loop: give one of them');
  for (const [flag, v] of [['--epochs', epochs], ['--max-iters', iters]] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new InputError(`${flag} must be a positive integer, got ${v}`);
  }
  if (epochs !== undefined) return [`trainCfg.maxEpochs=${epochs}`, 'trainCfg.maxIters=null'];
  if (iters !== undefined) return [`trainCfg.maxIters=${iters}`, 'trainCfg.maxEpochs=null', `trainCfg.valInterval=${iters}`, `checkpointInterval=${iters}`];
  return [];
}

const command: CommandModule<object, FinetuneArgs> = {
  command: 'finetune',
  describe: 'fine-tune a detector from a config file, starting from converted PyTorch weights',
  builder: (y) =>
    withExamples(withReadingArgs(y), [
      ['finetune --config configs/faster-rcnn_mobilenetv3-large-320-fpn_shapes-demo.js --data data/shapes', 'train on a COCO-layout dataset'],
      ['finetune --config CFG --data data/shapes --max-iters 100', 'a short run'],
      ['finetune --config CFG --cfg-options load_from=det optimizer.lr=0.005', 'from converted weights, another learning rate'],
      ['finetune --config CFG --resume', 'continue where the last run stopped'],
    ])
      .option('config', { type: 'string', demandOption: true, describe: 'fine-tuning config file (.js or .json)' })
      .option('data', { type: 'string', describe: 'dataset root in COCO layout (sets data.root)' })
      .option('work-dir', { type: 'string', describe: 'checkpoints, logs and metrics.json go here (default: work_dirs/<config name>)' })
      .option('epochs', { type: 'number', describe: 'train this many epochs (trainCfg.maxEpochs=N, trainCfg.maxIters=null)' })
      .option('max-iters', { type: 'number', describe: 'train this many iterations, evaluating and saving at the end (trainCfg.maxIters=N, maxEpochs=null; valInterval and checkpointInterval then count iterations)' })
      .option('cfg-options', { type: 'string', array: true, describe: 'config overrides KEY=VALUE (e.g. optimizer.lr=0.005)' })
      .option('resume', { type: 'boolean', describe: 'continue from WORK_DIR/latest exactly where it stopped' })
      .option('skip-bad', { type: 'boolean', describe: 'train without the images/annotations the bad-data report lists (default: stop)' })
      .option('backend', { type: 'string', choices: ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const, describe: "TF.js backend (default: the config's)" })
      .option('key', { type: 'string', describe: "take the weights of init_cfg/load_from .pth files from this top-level key (default: 'state_dict', else 'ema'/'model', else the file)" })
      .option('threads', { type: 'number', describe: 'wasm threads (opt-in; they collapse under CPU contention)' }),
  handler: async (argv) => {
    if (argv.threads !== undefined && (!Number.isInteger(argv.threads) || argv.threads < 1)) throw new InputError(`--threads must be a positive integer, got ${argv.threads}`);
    const loop = loopOptions(argv);
    const { finetune } = await import('../../train/finetune.js');
    const { NonFiniteLossError } = await import('../../train/trainer.js');
    try {
      const result = await finetune({
        config: argv.config,
        data: argv.data,
        workDir: argv['work-dir'],
        cfgOptions: [...loop, ...(argv['cfg-options'] ?? []), ...(argv['skip-bad'] ? ['data.skipBad=true'] : [])],
        resume: argv.resume,
        backend: argv.backend,
        threads: argv.threads,
        read: readOptionsOf(argv),
        key: argv.key,
      });
      const where = `${result.workDir} (latest/, best/, train.log.jsonl, metrics.json)`;
      if (result.status === 'interrupted') {
        process.stderr.write(`stopped after iteration ${result.state.iteration}; resume with --resume. Files: ${where}\n`);
        process.exitCode = 130;
        return;
      }
      const map = result.metrics ? ` bbox_mAP ${result.metrics.bbox_mAP?.toFixed(4)}, bbox_mAP_50 ${result.metrics.bbox_mAP_50?.toFixed(4)}` : '';
      process.stdout.write(`finished ${result.state.iteration} iterations;${map}. Files: ${where}\n`);
    } catch (err) {
      if (err instanceof NonFiniteLossError) throw new InputError(err.message);
      throw err;
    }
  },
};

export default command as unknown as CommandModule;
