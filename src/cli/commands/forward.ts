// `torchport forward DIR --input X.npy --out OUTDIR`: run a converted model on one NCHW input and
// write every requested output as NCHW .npy, for direct comparison with PyTorch.
import type { CommandModule } from 'yargs';
import { withExamples } from '../examples.js';

interface ForwardArgs {
  dir: string;
  input: string;
  out: string;
  'out-indices'?: Array<string | number>;
  backend?: 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
}

const command: CommandModule<object, ForwardArgs> = {
  command: 'forward <dir>',
  describe: 'run a model folder on an NCHW .npy input; writes features_<i>.npy (NCHW) and logits.npy (a detector: fpn_<i>.npy)',
  builder: (y) =>
    withExamples(y, [
      ['forward mnv3 --input x.npy --out outs/', 'features_<i>.npy and logits.npy for an NCHW input'],
      ['forward mnv3 --input x.npy --out outs/ --out-indices 2,5', 'only some feature layers'],
    ])
      .positional('dir', { type: 'string', demandOption: true, describe: 'model folder: `torchport convert` output or a fine-tuning checkpoint' })
      .option('input', { type: 'string', demandOption: true, describe: 'NCHW float32 .npy (any height and width)' })
      .option('out', { type: 'string', demandOption: true, describe: 'output folder' })
      .option('out-indices', { type: 'string', array: true, describe: 'feature layers to write (default: all)' })
      .option('backend', { choices: ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const, default: 'wasm' as const, describe: 'TF.js backend' }),
  handler: async (argv) => {
    const { isDetectorFolder, runDetectorForward } = await import('../../models/detectors/forward.js');
    if (isDetectorFolder(argv.dir)) {
      // a detector folder: its FPN outputs
      const { InputError } = await import('../../errors.js');
      if (argv['out-indices']) throw new InputError('--out-indices is for backbones; a detector folder writes its FPN outputs (fpn_<i>.npy)', argv.dir);
      const { selectBackend } = await import('../../backend/select.js');
      await selectBackend(argv.backend ?? 'wasm');
      const { written } = await runDetectorForward(argv.dir, argv.input, argv.out);
      process.stdout.write(`wrote ${written.map((w) => `${w.file} [${w.shape.join(', ')}]`).join(', ')} to ${argv.out}/\n`);
      return;
    }
    const { runForward } = await import('../../models/run-forward.js');
    const { parseIndexList } = await import('../../mapping/parse-options.js');
    const { written, initialised } = await runForward(argv.dir, argv.input, argv.out, {
      outIndices: argv['out-indices'] ? parseIndexList(argv['out-indices']) : undefined,
      backend: argv.backend ?? 'wasm',
    });
    if (initialised.length > 0) {
      process.stderr.write(`note: ${initialised.length} parameters were not in the checkpoint (converted with --allow-missing) and are freshly initialised\n`);
    }
    process.stdout.write(`wrote ${written.map((w) => `${w.file} [${w.shape.join(', ')}]`).join(', ')} to ${argv.out}/\n`);
  },
};

// main.ts registers commands as CommandModule; yargs' builder types the arguments for the handler.
export default command as unknown as CommandModule;
