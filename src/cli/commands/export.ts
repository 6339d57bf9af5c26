// `torchport export <model-dir> --format pth|safetensors [--layout ...] [--dtype ...] --out FILE`:
// a model folder (`torchport convert` output or a fine-tuning `latest/`/`best/`) back to PyTorch.
// Formats are one table: each entry says what it writes and how; a new format is one more entry.
import type { Argv, CommandModule } from 'yargs';
import { InputError } from '../../errors.js';
import { withExamples } from '../examples.js';

interface ExportArgs {
  'model-dir': string;
  format: string;
  layout?: string;
  dtype?: string;
  out?: string;
}

interface ExportFormat {
  describe: string;
  /** Default output path for a model folder. */
  defaultOut(dir: string): string;
  /** Writes the export and returns the line to print. */
  run(dir: string, out: string, argv: ExportArgs): Promise<string>;
}

/** PyTorch state dicts: both go through src/export's state-dict exporter. */
function stateDictFormat(format: 'pth' | 'safetensors', describe: string): ExportFormat {
  return {
    describe,
    defaultOut: (dir) => `${dir.replace(/[\\/]+$/, '')}.${format}`,
    async run(dir, out, argv) {
      const { exportStateDict } = await import('../../export/write.js');
      const e = exportStateDict(dir, out, { format, layout: argv.layout, dtype: argv.dtype as never });
      const how = e.exact ? 'the converted checkpoint\'s own keys, dtypes and bytes' : 'keys from the layout\'s rules';
      return `wrote ${out}: ${e.tensors.length} tensors in layout ${e.layout.mapping.name} (${how})`;
    },
  };
}

const FORMATS: Record<string, ExportFormat> = {
  pth: stateDictFormat('pth', 'torch.save zip checkpoint (torch.load(f, weights_only=True) reads it)'),
  safetensors: stateDictFormat('safetensors', 'safetensors file (flat keys, layout in __metadata__)'),
  'graph-model': {
    describe: 'TF.js GraphModel folder (tf.loadGraphModel + executeAsync, no torchport at run time; a detector does its whole pipeline in the graph)',
    defaultOut: (dir) => `${dir.replace(/[\\/]+$/, '')}-graph-model`,
    async run(dir, out, argv) {
      if (argv.layout) throw new InputError('--layout is for the pth and safetensors formats; a GraphModel has no PyTorch layout');
      if (argv.dtype && argv.dtype !== 'source' && argv.dtype !== 'float32') throw new InputError(`--dtype ${argv.dtype}: a GraphModel is written in float32`);
      const { selectBackend } = await import('../../backend/select.js');
      await selectBackend('cpu');
      const { exportGraphModel } = await import('../../export/graph-model/index.js');
      const e = await exportGraphModel(dir, out);
      return `wrote ${out}/: a ${e.kind} GraphModel (${e.nodes} nodes, ${e.ops.length} distinct ops, ${e.files.length - 1} weight shard(s))`;
    },
  },
};

const command: CommandModule<object, ExportArgs> = {
  command: 'export <model-dir>',
  describe: 'export a converted or fine-tuned model folder to PyTorch (.pth), safetensors or a TF.js GraphModel',
  builder: (y: Argv) =>
    withExamples(y, [
      ['export det --format pth --out det.pth', 'back to PyTorch: torch.load(f, weights_only=True)'],
      ['export det --format pth --layout mmdet --out det_mm.pth', 'in the mmdetection layout'],
      ['export det --format graph-model --out det-web', 'a standalone TF.js GraphModel'],
    ])
      .positional('model-dir', { type: 'string', demandOption: true, describe: 'folder written by `torchport convert` or a fine-tuning latest/ or best/' })
      .option('format', { type: 'string', demandOption: true, describe: Object.entries(FORMATS).map(([k, f]) => `${k}: ${f.describe}`).join('; ') })
      .option('layout', { type: 'string', describe: 'torchvision | mmdet | dli14 | timm (default: the one the weights came from); mmdet writes {meta, state_dict}' })
      .option('dtype', { type: 'string', default: 'source', describe: "source | float32 | float16 | bfloat16: floating tensors' dtype (source: each tensor's dtype in the converted checkpoint)" })
      .option('out', { type: 'string', describe: 'output file, or folder for graph-model (default: <model-dir>.<format>, <model-dir>-graph-model); replaced atomically' }) as unknown as Argv<ExportArgs>,
  handler: async (argv) => {
    const format = Object.hasOwn(FORMATS, argv.format) ? FORMATS[argv.format] : undefined;
    if (!format) throw new InputError(`unknown --format '${argv.format}' (known: ${Object.keys(FORMATS).join(', ')})`);
    const out = argv.out ?? format.defaultOut(argv['model-dir']);
    process.stdout.write(`${await format.run(argv['model-dir'], out, argv)}\n`);
  },
};

// main.ts registers commands as CommandModule; yargs' builder types the arguments for the handler.
export default command as unknown as CommandModule;
