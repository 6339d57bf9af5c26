// `torchport convert CKPT --out DIR`: read → unwrap → map → report → TF.js weights folder.
import type { CommandModule } from 'yargs';

interface ConvertArgs {
  checkpoint: string;
  out?: string;
  model?: string;
  mapping?: string;
  set?: string[];
  key?: string;
  'allow-missing'?: boolean;
  json?: boolean;
}

const command: CommandModule<object, ConvertArgs> = {
  command: 'convert <checkpoint>',
  describe: 'convert a PyTorch checkpoint into TF.js weights (model.json + shards) with its diff report',
  builder: (y) =>
    y
      .positional('checkpoint', { type: 'string', demandOption: true, describe: '.pth file' })
      .option('out', { type: 'string', describe: 'output folder (default: <checkpoint name>_tfjs); replaced atomically' })
      .option('model', { type: 'string', describe: 'target model (default: the one the best mapping targets)' })
      .option('mapping', { type: 'string', describe: 'force a mapping: a name in mappings/ or a .json file' })
      .option('set', { type: 'string', array: true, describe: 'model option NAME=VALUE (overrides the mapping), repeatable' })
      .option('key', { type: 'string', describe: 'take the state dict from this top-level key' })
      .option('allow-missing', { type: 'boolean', describe: 'write even if parameters are missing (they are initialised when loaded)' })
      .option('json', { type: 'boolean', describe: 'print the diff report as JSON' }),
  handler: async (argv) => {
    const { basename, extname } = await import('node:path');
    const { existsSync, readdirSync, statSync } = await import('node:fs');
    const { InputError } = await import('../../errors.js');
    const { convertCheckpoint } = await import('../../mapping/convert.js');
    const { renderReport, summaryLine } = await import('../../mapping/report.js');
    const { parseOptionAssignments } = await import('../../mapping/parse-options.js');
    const out = argv.out ?? `${basename(argv.checkpoint, extname(argv.checkpoint))}_tfjs`;
    // The folder is replaced as a whole: never replace one that holds something else.
    if (existsSync(out) && (!statSync(out).isDirectory() || (readdirSync(out).length > 0 && !existsSync(`${out}/model.json`)))) {
      throw new InputError('exists and is not a torchport output folder; choose another --out', out);
    }
    const result = await convertCheckpoint(argv.checkpoint, out, {
      model: argv.model,
      mapping: argv.mapping,
      options: parseOptionAssignments(argv.set),
      extract: argv.key ? { key: argv.key } : undefined,
      allowMissing: argv['allow-missing'],
    });
    const { report } = result;
    if (argv.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    for (const n of result.notes) process.stderr.write(`note: ${n}\n`);
    if (!result.written) {
      if (!argv.json) process.stdout.write(`${renderReport(report)}\n`);
      const why = report.summary.conflicts > 0 ? 'two checkpoint keys claim the same parameter' : `${report.summary.missing} parameters missing, ${report.summary.shapeMismatch} mismatched`;
      process.stderr.write(`torchport: refusing to write a partial model (${why}); rerun with --allow-missing to write it anyway\n`);
      process.exitCode = 1;
      return;
    }
    if (!argv.json) {
      process.stdout.write(`${report.mapping.name} → ${report.model.name}: ${summaryLine(report.summary)}\n`);
      process.stdout.write(`wrote ${out}/ (${result.files.join(', ')})\n`);
    }
  },
};

// main.ts registers commands as CommandModule; yargs' builder types the arguments for the handler.
export default command as unknown as CommandModule;
