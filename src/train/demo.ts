// The demo, end to end: make the synthetic shapes dataset, convert the bundled PyTorch checkpoint
// (assets/demo-detector.pth: a reduced torchvision fasterrcnn_mobilenet_v3_large_320_fpn trained in
// PyTorch on crosses, rings and diamonds by fixtures/gen_demo_checkpoint.py) into TF.js weights,
// fine-tune it on the new classes on the CPU, evaluate before and after, and draw detections on a
// few validation images.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendRequest } from '../backend/select.js';
import { readCocoJson } from '../data/coco.js';
import { writeShapesDataset } from '../data/shapes.js';
import { InputError } from '../errors.js';
import { drawDetections } from '../io/draw.js';
import { summaryLine } from '../mapping/report.js';
import { convertCheckpoint } from '../models/convert.js';
import { readImageFile } from '../models/detectors/run.js';
import { finetune, type FinetuneResult } from './finetune.js';
import type { Progress } from './progress.js';
import { makeDirs } from '../io/make-dirs.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DEMO_CHECKPOINT = join(ROOT, 'assets/demo-detector.pth');
export const DEMO_CONFIG = join(ROOT, 'configs/faster-rcnn_mobilenetv3-large-320-fpn_shapes-demo.js');
/** The bundled checkpoint is torchvision's 320 detector at reduced size (see fixtures/gen_demo_checkpoint.py). */
const REDUCED_MODEL = ['model.backbone.widthMult=0.35', 'model.neck.outChannels=32', 'model.roiHead.representationSize=64'];
/**
 * torchvision's own 320 scale and anchors (the demo config's are half that, for speed): the 128-px
 * images enlarged 2.5x put even 10-px shapes within reach of the stride-32 features; at half this
 * scale mAP@0.5 stays near 0.5, held back by the small shapes.
 */
const DEMO_SCALE = ['model.transform.minSize=320', 'model.transform.maxSize=640', `model.rpn.anchors.sizes=${JSON.stringify(Array(3).fill([32, 64, 128, 256, 512]))}`];

export interface DemoOptions {
  /** Everything goes under here: shapes/, converted/, work/, detections/. */
  out: string;
  train: number;
  val: number;
  /** Image side of the synthetic dataset. */
  size: number;
  epochs: number;
  /** Validation images to draw detections on. */
  draw: number;
  /** Draw detections scoring at least this (at most 5 per image, best first). */
  scoreThreshold?: number;
  backend?: BackendRequest;
  /** Extra config overrides (KEY=VALUE). */
  cfgOptions?: string[];
  info?: (line: string) => void;
  progress?: Progress;
}

export interface DemoResult {
  finetune: FinetuneResult;
  /** Mean training loss of the first and of the last epoch. */
  firstEpochLoss: number;
  lastEpochLoss: number;
  drawn: string[];
  /** Where the pictures are. */
  drawDir: string;
  /** The `torchport detect` command line that runs the fine-tuned model on an image of one's own. */
  detectCommand: string;
}

/** `path` as typed on a command line: relative to the current folder when inside it. */
function shellPath(path: string): string {
  const rel = relative(process.cwd(), path);
  const p = rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : resolve(path);
  return /[^\w./-]/.test(p) ? `'${p.replace(/'/g, "'\\''")}'` : p;
}

function epochLosses(logFile: string): number[] {
  const sums = new Map<number, { sum: number; n: number }>();
  for (const line of readFileSync(logFile, 'utf8').trim().split('\n')) {
    const r = JSON.parse(line) as { mode: string; epoch: number; loss: number };
    if (r.mode !== 'train') continue;
    const s = sums.get(r.epoch) ?? { sum: 0, n: 0 };
    sums.set(r.epoch, { sum: s.sum + r.loss, n: s.n + 1 });
  }
  return [...sums].sort((a, b) => a[0] - b[0]).map(([, s]) => s.sum / s.n);
}

export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const info = o.info ?? ((line: string) => process.stderr.write(`${line}\n`));
  const dataDir = join(o.out, 'shapes');
  const made = await writeShapesDataset(dataDir, { train: o.train, val: o.val, size: o.size, seed: 0, maxShapes: 3 });
  info(`1/4 dataset: ${dataDir}: ${made.train} train + ${made.val} val images (${o.size}x${o.size}), ${made.annotations} shapes`);

  const convertedDir = join(o.out, 'converted');
  const converted = await convertCheckpoint(DEMO_CHECKPOINT, convertedDir);
  if (!converted.written) throw new InputError(`the bundled checkpoint did not convert completely: ${summaryLine(converted.report.summary)}`, DEMO_CHECKPOINT);
  info(`2/4 converted ${DEMO_CHECKPOINT} → ${convertedDir}: ${summaryLine(converted.report.summary)}`);

  info(`3/4 fine-tuning for ${o.epochs} epoch(s) on the new classes`);
  rmSync(join(o.out, 'fine-tuned'), { recursive: true, force: true }); // a fresh run, not a continuation of an old log
  // The config's step schedule, fitted to the epochs asked for: lr / 10 for the last quarter.
  const schedule = [`paramScheduler.1.milestones=[${Math.max(1, Math.round(o.epochs * 0.75))}]`, `paramScheduler.1.end=${o.epochs}`];
  const result = await finetune({
    config: DEMO_CONFIG,
    data: dataDir,
    workDir: join(o.out, 'fine-tuned'),
    cfgOptions: [...REDUCED_MODEL, ...DEMO_SCALE, `load_from=${convertedDir}`, `trainCfg.maxEpochs=${o.epochs}`, `trainCfg.valInterval=${o.epochs}`, ...schedule, ...(o.cfgOptions ?? [])],
    backend: o.backend,
    evaluateFirst: true,
    info,
    progress: o.progress,
  });
  const losses = epochLosses(join(result.workDir, 'train.log.jsonl'));

  const drawDir = join(o.out, 'detections');
  makeDirs(drawDir);
  const weights = Object.fromEntries(result.variables);
  const drawn: string[] = [];
  const threshold = o.scoreThreshold ?? 0.5;
  for (const image of readCocoJson(join(dataDir, 'annotations/instances_val.json')).images.slice(0, o.draw)) {
    const rgb = await readImageFile(join(dataDir, 'val', image.file_name));
    const [det] = await result.detector.predict(weights, [rgb]);
    const boxes = [...det.scores].slice(0, 5).flatMap((score, i) => {
      if (score < threshold) return [];
      const b = det.boxes.subarray(4 * i, 4 * i + 4);
      const label = det.labels[i];
      return [{ box: [b[0], b[1], b[2], b[3]] as [number, number, number, number], label: result.classNames[label - 1] ?? String(label), score, colorIndex: label }];
    });
    const file = join(drawDir, image.file_name.replace(/\.[a-z]+$/i, '.png'));
    writeFileSync(file, await drawDetections(rgb, boxes));
    drawn.push(file);
  }
  info(`4/4 drew up to 5 detections (score ≥ ${threshold}) on ${drawn.length} validation images in ${drawDir}`);
  const detectCommand = `torchport detect ${shellPath(join(result.workDir, 'best'))} YOUR_IMAGE.png --out ${shellPath(join(o.out, 'my-detections'))}`;
  return { finetune: result, firstEpochLoss: losses[0], lastEpochLoss: losses[losses.length - 1], drawn, drawDir, detectCommand };
}
