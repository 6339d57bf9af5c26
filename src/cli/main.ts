// The torchport command line. Thin by design: each command lives in its own module that is
// imported only when that command runs, so `inspect` and `diff` never load TF.js.
import { readFileSync } from 'node:fs';
import yargs, { type Argv, type CommandModule } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { InputError, InternalError } from '../errors.js';

interface CommandEntry {
  name: string;
  describe: string;
  load: () => Promise<{ default: CommandModule }>;
}

const COMMANDS: CommandEntry[] = [
  { name: 'inspect', describe: 'show what a PyTorch checkpoint holds', load: () => import('./commands/inspect.js') },
  { name: 'diff', describe: "show how a checkpoint's keys map onto a model", load: () => import('./commands/diff.js') },
  { name: 'convert', describe: 'convert a PyTorch checkpoint into TF.js weights', load: () => import('./commands/convert.js') },
  { name: 'export', describe: 'export a model folder to PyTorch (.pth), safetensors or a TF.js GraphModel', load: () => import('./commands/export.js') },
  { name: 'features', describe: "list a backbone's feature layers and FPN taps", load: () => import('./commands/features.js') },
  { name: 'forward', describe: 'run a converted model on an NCHW .npy input', load: () => import('./commands/forward.js') },
  { name: 'make-dataset', describe: 'write a small synthetic COCO dataset (shapes)', load: () => import('./commands/make-dataset.js') },
  { name: 'detect', describe: 'run a converted detector on PNG/JPEG images', load: () => import('./commands/detect.js') },
  { name: 'eval', describe: 'evaluate a trained detector (COCO mAP) and write metrics.json', load: () => import('./commands/eval.js') },
  { name: 'finetune', describe: 'fine-tune a detector from a config file', load: () => import('./commands/finetune.js') },
  { name: 'demo', describe: 'the end-to-end demo: convert, fine-tune on the CPU, evaluate, draw', load: () => import('./commands/demo.js') },
  { name: 'doctor', describe: 'show which TF.js backends are usable and how to install tfjs-node-gpu', load: () => import('./commands/doctor.js') },
];

function version(): string {
  // src/cli/ and dist/cli/ both sit two levels below package.json.
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

export async function main(argv: string[]): Promise<void> {
  const verbose = argv.includes('--verbose');
  const entry = COMMANDS.find((c) => c.name === argv[0]);
  let cli: Argv = yargs(argv)
    .scriptName('torchport')
    .usage('$0 <command> [options]')
    .option('verbose', { type: 'boolean', describe: 'show stack traces and extra detail', global: true })
    .version(version())
    .strict()
    .demandCommand(1, 'name a command (see --help)')
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((msg, err) => {
      throw err ?? new InputError(msg);
    });
  if (entry) {
    cli = cli.command((await entry.load()).default);
  } else {
    for (const c of COMMANDS) cli = cli.command(c.name, c.describe);
  }
  try {
    await cli.parseAsync();
  } catch (err) {
    if (err instanceof InputError) {
      process.stderr.write(`torchport: ${err.message}\n`);
      if (verbose && err.stack) process.stderr.write(`${err.stack}\n`);
      process.exitCode = 2;
      return;
    }
    if (err instanceof InternalError) {
      process.stderr.write(`torchport: ${err.message}\n`);
      const cause = err.cause instanceof Error ? err.cause : err;
      process.stderr.write(verbose ? `${cause.stack ?? String(cause)}\n` : 'torchport: --verbose shows the stack trace\n');
      process.exitCode = 70;
      return;
    }
    throw err;
  }
}

await main(hideBin(process.argv));
