// A COCO detection dataset on disk: checked annotations, label numbering, and decoded samples
// with boxes as x1, y1, x2, y2 (crowd regions kept apart: they are never training targets).

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { decodeImage } from '../io/image.js';
import { type BadDataReport, checkCocoData, countProblems, formatBadDataReport, withoutBadData } from './check.js';
import { type CocoImage, type CocoJson, LabelMap, readCocoJson } from './coco.js';
import type { Sample } from './transforms.js';

export interface CocoDatasetOptions {
  annFile: string;
  imgDir: string;
  /** Drop images that have no (non-crowd) annotation, as torchvision's references and mmdet do for training. */
  filterEmpty?: boolean;
  /** Continue without the items the bad-data report lists (default: stop with the report). */
  skipBad?: boolean;
}

export interface DatasetItem {
  image: CocoImage;
  file: string;
  /** [n * 4] x1, y1, x2, y2 in original pixels, clipped to the image. */
  boxes: Float32Array;
  labels: Int32Array;
  crowdBoxes: Float32Array;
}

function xyxyClipped(bbox: readonly number[], width: number, height: number): number[] {
  const [x, y, w, h] = bbox;
  const clip = (v: number, hi: number): number => Math.min(Math.max(v, 0), hi);
  return [clip(x, width), clip(y, height), clip(x + w, width), clip(y + h, height)];
}

export class CocoDataset {
  private constructor(
    readonly annFile: string,
    /** The annotations in use (without skipped bad data). */
    readonly coco: CocoJson,
    readonly labels: LabelMap,
    readonly items: DatasetItem[],
    readonly report: BadDataReport,
  ) {}

  /** Reads and checks the dataset; throws InputError with the bad-data report unless `skipBad`. */
  static async load(opts: CocoDatasetOptions): Promise<CocoDataset> {
    const raw = readCocoJson(opts.annFile);
    if (raw.categories.length === 0) throw new InputError('"categories" is empty: nothing to detect', opts.annFile);
    const report = await checkCocoData(raw, opts.imgDir);
    const problems = countProblems(report);
    if (problems > 0 && !opts.skipBad) {
      throw new InputError(
        `${problems} problem(s) in the data; fix them, or set data.skipBad = true (--skip-bad) to train without them:\n` +
          formatBadDataReport(report),
        opts.annFile,
      );
    }
    const coco = problems > 0 ? withoutBadData(raw, report) : raw;
    const labels = new LabelMap(coco.categories);
    const byImage = new Map<number, { boxes: number[]; labels: number[]; crowd: number[] }>();
    for (const im of coco.images) byImage.set(im.id, { boxes: [], labels: [], crowd: [] });
    const images = new Map(coco.images.map((im) => [im.id, im]));
    for (const a of coco.annotations) {
      const im = images.get(a.image_id)!;
      const entry = byImage.get(a.image_id)!;
      const box = xyxyClipped(a.bbox, im.width, im.height);
      if (a.iscrowd) entry.crowd.push(...box);
      else {
        entry.boxes.push(...box);
        entry.labels.push(labels.label(a.category_id)!);
      }
    }
    const items: DatasetItem[] = [];
    for (const im of coco.images) {
      const e = byImage.get(im.id)!;
      if (opts.filterEmpty && e.labels.length === 0) continue;
      items.push({
        image: im,
        file: join(opts.imgDir, im.file_name),
        boxes: Float32Array.from(e.boxes),
        labels: Int32Array.from(e.labels),
        crowdBoxes: Float32Array.from(e.crowd),
      });
    }
    if (items.length === 0) throw new InputError('no usable images (all empty or bad)', opts.annFile);
    return new CocoDataset(opts.annFile, coco, labels, items, report);
  }

  get length(): number {
    return this.items.length;
  }

  /** Decodes item `i` into a fresh sample with pixels in [0, 1]. */
  async readSample(i: number): Promise<Sample> {
    const item = this.items[i];
    const { image } = item;
    let bytes: Buffer;
    try {
      bytes = await readFile(item.file);
    } catch (err) {
      throw new InputError(`image ${image.id}: cannot read (${(err as NodeJS.ErrnoException).code})`, item.file);
    }
    let decoded;
    try {
      decoded = await decodeImage(bytes);
    } catch (err) {
      throw new InputError(`image ${image.id}: corrupt image (${(err as Error).message.split('\n')[0]})`, item.file);
    }
    if (decoded.width !== image.width || decoded.height !== image.height) {
      throw new InputError(`image ${image.id}: decoded ${decoded.width}x${decoded.height}, annotations say ${image.width}x${image.height}`, item.file);
    }
    const pixels = new Float32Array(decoded.data.length);
    for (let k = 0; k < pixels.length; k++) pixels[k] = Math.fround(decoded.data[k] / 255);
    return {
      imageId: image.id,
      image: pixels,
      height: image.height,
      width: image.width,
      originalHeight: image.height,
      originalWidth: image.width,
      boxes: item.boxes.slice(),
      labels: item.labels.slice(),
      crowdBoxes: item.crowdBoxes.slice(),
      scaleFactor: [1, 1],
      flipped: false,
      padDivisor: 1,
    };
  }
}
