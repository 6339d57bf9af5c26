// `torchport make-dataset shapes --out DIR`: the synthetic COCO dataset the demo and tests use.
import type { CommandModule } from 'yargs';
import { InputError } from '../../errors.js';
import { withExamples } from '../examples.js';

interface MakeDatasetArgs {
  kind: string;
  out: string;
  train: number;
  val: number;
  size: number;
  seed: number;
  'max-shapes': number;
}

function positiveInt(name: string, v: number, max: number): number {
  if (!Number.isInteger(v) || v < 1 || v > max) throw new InputError(`--${name} must be an integer from 1 to ${max}, got ${v}`);
  return v;
}

const command: CommandModule<object, MakeDatasetArgs> = {
  command: 'make-dataset <kind>',
  describe: 'write a small synthetic COCO detection dataset (kind: shapes)',
  builder: (y) =>
    withExamples(y, [
      ['make-dataset shapes --out data/shapes', '100 train + 30 val images of rectangles, ellipses and triangles'],
      ['make-dataset shapes --out data/tiny --train 8 --val 4 --seed 1', 'a tiny one, another seed'],
    ])
      .positional('kind', { type: 'string', choices: ['shapes'], describe: 'which dataset', demandOption: true })
      .option('out', { type: 'string', demandOption: true, describe: 'output folder (replaced atomically)' })
      .option('train', { type: 'number', default: 100, describe: 'training images' })
      .option('val', { type: 'number', default: 30, describe: 'validation images' })
      .option('size', { type: 'number', default: 128, describe: 'image side in pixels' })
      .option('seed', { type: 'number', default: 0, describe: 'random seed (same seed, same dataset)' })
      .option('max-shapes', { type: 'number', default: 3, describe: 'most shapes per image' }),
  handler: async (argv) => {
    const { writeShapesDataset } = await import('../../data/shapes.js');
    const started = Date.now();
    const opts = {
      train: positiveInt('train', argv.train, 100000),
      val: positiveInt('val', argv.val, 100000),
      size: positiveInt('size', argv.size, 4096),
      seed: argv.seed,
      maxShapes: positiveInt('max-shapes', argv['max-shapes'], 20),
    };
    if (!Number.isInteger(opts.seed) || opts.seed < 0) throw new InputError(`--seed must be a non-negative integer, got ${opts.seed}`);
    if (opts.size < 32) throw new InputError(`--size must be at least 32 pixels, got ${opts.size}`);
    const result = await writeShapesDataset(argv.out, opts);
    process.stdout.write(
      `wrote ${argv.out}: ${result.train} train + ${result.val} val images (${opts.size}x${opts.size}), ` +
        `${result.annotations} objects in 3 categories (rectangle, ellipse, triangle) in ${((Date.now() - started) / 1000).toFixed(1)} s\n` +
        `  annotations/instances_train.json, annotations/instances_val.json, train/, val/\n`,
    );
  },
};

// main.ts registers commands as CommandModule; yargs' builder types the arguments for the handler.
export default command as unknown as CommandModule;
