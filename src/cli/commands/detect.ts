// `torchport detect MODEL_DIR IMAGE|FOLDER...`: run a detector model folder (converted or fine-tuned) on PNG/JPEG images; print a
// table (or JSON), optionally write the images with their detections drawn. An image that cannot be
// read is reported on a line of its own and skipped; the exit code is then 1.
import type { CommandModule } from 'yargs';
import { withExamples } from '../examples.js';

interface DetectArgs {
  model: string;
  images: string[];
  json?: boolean;
  out?: string;
  'score-threshold': number;
  recursive?: boolean;
  backend: 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
}

const command: CommandModule<object, DetectArgs> = {
  command: 'detect <model> <images..>',
  describe: 'run a converted detector on PNG/JPEG images',
  builder: (y) =>
    withExamples(y, [
      ['detect det street.jpg --json', 'detections as JSON'],
      ['detect work_dirs/RUN/best photos/ --recursive --out drawn/', 'every image under a folder, drawn'],
      ['detect det street.jpg --score-threshold 0.5', 'only confident detections'],
    ])
      .positional('model', { type: 'string', demandOption: true, describe: 'detector model folder: `torchport convert` output or a fine-tuning checkpoint (WORK_DIR/best)' })
      .positional('images', { type: 'string', array: true, demandOption: true, describe: 'PNG or JPEG files, or folders of them' })
      .option('recursive', { type: 'boolean', describe: "also the images in the given folders' sub-folders" })
      .option('json', { type: 'boolean', describe: 'print [{image, detections: [{label, labelId, score, box}]}] as JSON' })
      .option('out', { type: 'string', describe: 'folder to write each image with its detections drawn (PNG; images from a folder keep their sub-folders)' })
      .option('score-threshold', { type: 'number', default: 0.3, describe: 'report detections scoring at least this' })
      .option('backend', { choices: ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const, default: 'auto' as const, describe: 'TF.js backend' }),
  handler: async (argv) => {
    const { InputError } = await import('../../errors.js');
    const { report } = await import('../report.js');
    const thr = argv['score-threshold'];
    if (!(thr >= 0 && thr <= 1)) throw new InputError(`--score-threshold must be between 0 and 1, got ${thr}`);
    const { listImageFiles } = await import('../../io/image-files.js');
    const files = listImageFiles(argv.images, argv.recursive);
    const { selectBackend } = await import('../../backend/select.js');
    await selectBackend(argv.backend);
    const { loadDetectorDir } = await import('../../models/detectors/load.js');
    const { detectImage, readImageFile } = await import('../../models/detectors/run.js');
    const { join } = await import('node:path');
    const detector = loadDetectorDir(argv.model);
    if (detector.initialised.length > 0) {
      process.stderr.write(
        `torchport: warning: ${detector.initialised.length} parameter(s) were not in the converted weights and are freshly ` +
          `initialised (e.g. ${detector.initialised[0]}): detections will be meaningless until they are trained\n`,
      );
    }
    const results = [];
    let failed = 0;
    for (const { path, name } of files) {
      let image;
      try {
        image = await readImageFile(path);
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        report(err.message);
        failed++;
        continue;
      }
      const detections = await detectImage(detector, image, thr);
      results.push({ image: path, detections });
      if (argv.out) {
        const { drawDetections } = await import('../../io/draw.js');
        const { writeFileAtomic } = await import('../../io/atomic.js');
        const file = join(argv.out, `${name.replace(/\.[^./]+$/, '')}.png`);
        const png = await drawDetections(image, detections.map((d) => ({ box: d.box, label: d.label, score: d.score, colorIndex: d.labelId })));
        writeFileAtomic(file, png);
      }
    }
    if (argv.out && results.length > 0) process.stderr.write(`drew the detections on ${results.length} image(s) in ${argv.out}\n`);
    if (failed > 0) {
      process.exitCode = 1;
      if (files.length > 1) report(`${failed} of ${files.length} images could not be read (above); the others are reported`);
    }
    if (argv.json) {
      process.stdout.write(`${JSON.stringify(results, null, 1)}\n`);
      return;
    }
    if (results.length === 0) return;
    const { default: Table } = await import('cli-table3');
    const table = new Table({ head: ['image', 'label', 'id', 'score', 'x1', 'y1', 'x2', 'y2'], style: { head: [], border: [] } });
    for (const r of results) {
      if (r.detections.length === 0) table.push([r.image, '(none)', '', '', '', '', '', '']);
      for (const d of r.detections) table.push([r.image, d.label, d.labelId, d.score.toFixed(3), ...d.box.map((v) => v.toFixed(1))]);
    }
    process.stdout.write(`${table.toString()}\n`);
  },
};

// main.ts registers commands as CommandModule; yargs' builder types the arguments for the handler.
export default command as unknown as CommandModule;
