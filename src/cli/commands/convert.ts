// `torchport convert CKPT --out DIR`: read → unwrap → map → report → TF.js weights folder.
import type { CommandModule } from 'yargs';
import { mappingOptions, withMappingArgs, type MappingArgs } from './diff.js';
import { withExamples } from '../examples.js';

interface ConvertArgs extends MappingArgs {
  out?: string;
  'allow-missing'?: boolean;
  json?: boolean;
}

const command: CommandModule<object, ConvertArgs> = {
  command: 'convert <checkpoint>',
  describe: 'convert a PyTorch checkpoint into TF.js weights (model.json + shards) with its diff report',
  builder: (y) =>
    withExamples(withMappingArgs(y), [
      ['convert mobilenetv3-large-1cd25616.pth --out mnv3', 'TF.js model.json + shards + diff report'],
      ['convert frcnn.pth --model fasterrcnn_mobilenet_v3_large_320_fpn --out det', 'a detector, for detect and finetune'],
      ['convert ckpt.pth --filter ^backbone --allow-missing --out part', 'only some keys (the rest initialised when loaded)'],
    ])
      .option('out', { type: 'string', describe: 'output folder (default: <checkpoint name>_tfjs); replaced atomically' })
      .option('allow-missing', { type: 'boolean', describe: 'write even if parameters are missing (they are initialised when loaded)' })
      .option('json', { type: 'boolean', describe: 'print the diff report as JSON' }),
  handler: async (argv) => {
    const { basename, extname } = await import('node:path');
    const { convertCheckpoint } = await import('../../models/convert.js');
    const { renderReport, summaryLine } = await import('../../mapping/report.js');
    const out = argv.out ?? `${basename(argv.checkpoint, extname(argv.checkpoint))}_tfjs`;
    const result = await convertCheckpoint(argv.checkpoint, out, { ...(await mappingOptions(argv)), allowMissing: argv['allow-missing'] });
    const { report } = result;
    if (argv.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    for (const n of result.notes) process.stderr.write(`note: ${n}\n`);
    if (!result.written) {
      if (!argv.json) process.stdout.write(`${renderReport(report)}\n`);
      process.stderr.write(report.summary.conflicts > 0
        ? 'torchport: refusing to convert: the mapping is ambiguous (two checkpoint keys claim the same parameter; see the conflicts above)\n'
        : `torchport: refusing to write a partial model (${report.summary.missing} parameters missing, ${report.summary.shapeMismatch} mismatched); rerun with --allow-missing to write it anyway\n`);
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
