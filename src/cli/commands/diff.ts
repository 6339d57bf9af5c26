// `torchport diff CKPT [--model NAME] [--mapping NAME|FILE]`: the key-diff report. Never loads TF.js.
import type { Argv, CommandModule } from 'yargs';
import type { MapCheckpointOptions } from '../../models/map-checkpoint.js';
import { readOptionsOf, withReadingArgs, type ReadingArgs } from '../reading-flags.js';
import { withExamples } from '../examples.js';

/** The options `diff` and `convert` share: which model, which mapping, option overrides, where the weights are. */
export interface MappingArgs extends ReadingArgs {
  checkpoint: string;
  model?: string;
  mapping?: string;
  set?: string[];
  key?: string;
  filter?: string;
}

export function withMappingArgs<T>(y: Argv<T>) {
  return withReadingArgs(y)
    .positional('checkpoint', { type: 'string', demandOption: true, describe: '.pth file' })
    .option('model', { type: 'string', describe: 'target model (default: the one the best mapping targets)' })
    .option('mapping', { type: 'string', describe: 'force a mapping: a name in mappings/ or a .json file' })
    .option('set', { type: 'string', array: true, describe: 'model option NAME=VALUE (overrides the mapping), repeatable' })
    .option('key', { type: 'string', describe: "take the state dict from this top-level key (default: 'state_dict', else 'model', else the file)" })
    .option('filter', { type: 'string', describe: 'only checkpoint keys matching this regular expression (with --allow-missing, converts a subset)' });
}

export async function mappingOptions(argv: MappingArgs): Promise<MapCheckpointOptions> {
  const { parseOptionAssignments } = await import('../../mapping/parse-options.js');
  return {
    model: argv.model,
    mapping: argv.mapping,
    options: parseOptionAssignments(argv.set),
    extract: { ...(argv.key ? { key: argv.key } : {}), ...(argv.filter !== undefined ? { filter: argv.filter } : {}) },
    // Lazily: diff reads no tensor data; convert reads (and checks) the tensors it converts.
    read: { ...readOptionsOf(argv), lazy: true },
  };
}

interface DiffArgs extends MappingArgs {
  all?: boolean;
  json?: boolean;
}

const command: CommandModule<object, DiffArgs> = {
  command: 'diff <checkpoint>',
  describe: "show how a checkpoint's keys map onto a torchport model (exit 0: all loaded, 1: missing/mismatched, 2: bad input)",
  builder: (y) =>
    withExamples(withMappingArgs(y), [
      ['diff mobilenetv3-large-1cd25616.pth', 'how the keys map onto the detected model (exit 1 if incomplete)'],
      ['diff frcnn.pth --model fasterrcnn_mobilenet_v3_large_320_fpn --set numClasses=4', 'against a chosen model, with a model option'],
      ['diff ckpt.pth --mapping mappings/mine.json --all', 'a mapping file of your own, one line per key'],
    ])
      .option('all', { type: 'boolean', describe: 'one line per key instead of grouped keys' })
      .option('json', { type: 'boolean', describe: 'print the report as JSON' }),
  handler: async (argv) => {
    const { mapCheckpoint } = await import('../../models/map-checkpoint.js');
    const { renderReport } = await import('../../mapping/report.js');
    const mapped = mapCheckpoint(argv.checkpoint, await mappingOptions(argv));
    if (argv.json) process.stdout.write(`${JSON.stringify(mapped.report, null, 2)}\n`);
    else process.stdout.write(`${[...mapped.notes.map((n) => `note: ${n}`), renderReport(mapped.report, argv.all)].join('\n')}\n`);
    process.exitCode = mapped.report.summary.complete ? 0 : 1;
  },
};

// main.ts registers commands as CommandModule; yargs' builder types the arguments for the handler.
export default command as unknown as CommandModule;
