// `torchport demo` (`npm run demo`): dataset → convert a bundled PyTorch checkpoint → fine-tune on
// the CPU → evaluate → draw detections (see src/train/demo.ts).
import type { CommandModule } from 'yargs';
import { withExamples } from '../examples.js';
import { InputError } from '../../errors.js';

interface DemoArgs {
  out: string;
  train: number;
  val: number;
  size: number;
  epochs: number;
  draw: number;
  'score-threshold': number;
  backend: 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
}

function count(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) throw new InputError(`--${name} must be an integer from ${min} to ${max}, got ${v}`);
  return v;
}

const command: CommandModule<object, DemoArgs> = {
  command: 'demo',
  describe: 'make a synthetic dataset, convert a bundled PyTorch detector, fine-tune it on the CPU, evaluate and draw detections',
  builder: (y) =>
    withExamples(y, [
      ['demo', 'dataset, convert, fine-tune, evaluate and draw under torchport-demo/'],
      ['demo --out /tmp/demo --epochs 2', 'a shorter run elsewhere'],
    ])
      .option('out', { type: 'string', default: 'torchport-demo', describe: 'folder for the dataset, converted weights, checkpoints and drawings' })
      .option('train', { type: 'number', default: 100, describe: 'training images' })
      .option('val', { type: 'number', default: 30, describe: 'validation images' })
      .option('size', { type: 'number', default: 128, describe: 'image side in pixels' })
      .option('epochs', { type: 'number', default: 12, describe: 'fine-tuning epochs' })
      .option('draw', { type: 'number', default: 4, describe: 'validation images to draw detections on' })
      .option('score-threshold', { type: 'number', default: 0.5, describe: 'draw detections scoring at least this (at most 5 per image)' })
      .option('backend', { type: 'string', choices: ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const, default: 'wasm' as const, describe: 'TF.js backend (wasm: the fast CPU backend)' }),
  handler: async (argv) => {
    const threshold = argv['score-threshold'];
    if (!(threshold >= 0 && threshold <= 1)) throw new InputError(`--score-threshold must be from 0 to 1, got ${threshold}`);
    const { runDemo } = await import('../../train/demo.js');
    const started = Date.now();
    const r = await runDemo({
      out: argv.out,
      train: count('train', argv.train, 1, 100000),
      val: count('val', argv.val, 1, 100000),
      size: count('size', argv.size, 64, 1024),
      epochs: count('epochs', argv.epochs, 1, 1000),
      draw: count('draw', argv.draw, 0, 1000),
      scoreThreshold: threshold,
      backend: argv.backend,
    });
    const f = r.finetune;
    const map = (m: Record<string, number> | undefined, k: string) => (m?.[k] === undefined ? '?' : m[k].toFixed(3));
    process.stdout.write(
      `demo finished in ${((Date.now() - started) / 1000).toFixed(0)} s\n` +
        `  training loss (epoch mean): ${r.firstEpochLoss.toFixed(3)} → ${r.lastEpochLoss.toFixed(3)}\n` +
        `  bbox_mAP_50: ${map(f.initialMetrics, 'bbox_mAP_50')} → ${map(f.metrics, 'bbox_mAP_50')}; bbox_mAP: ${map(f.initialMetrics, 'bbox_mAP')} → ${map(f.metrics, 'bbox_mAP')}\n` +
        `  checkpoints, log and metrics.json: ${f.workDir}\n` +
        (r.drawn.length ? `  pictures of the detections: ${r.drawDir} (${r.drawn.length} PNG)\n` : '') +
        `run the fine-tuned detector on your own image:\n  ${r.detectCommand}\n`,
    );
  },
};

export default command as unknown as CommandModule;
