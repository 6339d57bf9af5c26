// The torchport command line. Thin by design: each command lives in its own module that is
// imported only when that command runs, so `inspect` and `diff` never load TF.js.
import { readFileSync } from 'node:fs';
import yargs, { type Argv, type CommandModule } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { InputError, InternalError, systemErrorLine } from '../errors.js';
import { closestName } from '../registry.js';
import { withExamples } from './examples.js';
import { report } from './report.js';
import { notANumber, rephraseUsageError, usageLine } from './usage-errors.js';

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
  const names = COMMANDS.map((c) => c.name);
  if (!entry && argv[0] !== undefined && !argv[0].startsWith('-')) {
    const closest = closestName(argv[0], names, 3);
    report(`unknown command '${argv[0]}'${closest ? ` (did you mean ${closest}?)` : ''}; the commands are ${names.join(', ')}\nusage: ${usageLine({ argv, options: [], required: [] })}`);
    process.exitCode = 2;
    return;
  }
  const module = entry && (await entry.load()).default;
  let cli: Argv = yargs(argv)
    .scriptName('torchport')
    .usage('$0 <command> [options]')
    .locale('en')
    .option('verbose', { type: 'boolean', describe: 'show stack traces and extra detail', global: true })
    .version(version())
    .strict()
    .demandCommand(1, `name a command: ${names.join(', ')}`)
    // the terminal's width; piped help is not wrapped (examples stay one line each)
    .wrap(process.stdout.isTTY ? process.stdout.columns : null)
    .fail((msg, err) => {
      if (err) throw err;
      const command = typeof module?.command === 'string' ? module.command : undefined;
      throw new InputError(rephraseUsageError(msg, { argv, command, options: Object.keys(internals().getOptions().key), required: Object.keys(internals().getDemandedOptions()) }));
    })
    .middleware((parsed) => {
      const problem = notANumber(parsed, internals().getOptions().number, argv);
      if (problem) throw new InputError(problem);
    });
  // yargs keeps the running command's options on this instance (methods its typings leave out)
  const internals = () => cli as unknown as { getOptions(): { key: Record<string, unknown>; number: string[] }; getDemandedOptions(): Record<string, unknown> };
  if (module) {
    cli = cli.command(module);
  } else {
    for (const c of COMMANDS) cli = cli.command(c.name, c.describe);
    cli = withExamples(cli, [
      ['demo', 'the whole job on bundled data, in a minute or two'],
      ['inspect model.pth', 'what a checkpoint holds'],
      ['convert model.pth --out model', 'into TF.js weights, with a report of what matched'],
      ['<command> --help', "a command's options and examples"],
    ]);
  }
  try {
    await cli.parseAsync();
  } catch (err) {
    const systemError = systemErrorLine(err);
    if (err instanceof InputError || systemError) {
      report(systemError ?? (err as Error).message);
      if (verbose && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
      process.exitCode = 2;
      return;
    }
    if (err instanceof InternalError) {
      report(err.message);
      const cause = err.cause instanceof Error ? err.cause : err;
      process.stderr.write(verbose ? `${cause.stack ?? String(cause)}\n` : 'torchport: --verbose shows the stack trace\n');
      process.exitCode = 70;
      return;
    }
    throw err;
  }
}

await main(hideBin(process.argv));
