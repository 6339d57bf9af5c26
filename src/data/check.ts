// The bad-data report: everything in a COCO dataset that would break or silently poison training,
// listed with ids so it can be fixed. Checked before training starts.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readImageSize } from '../io/image.js';
import type { CocoJson } from './coco.js';

/** Boxes may poke out of the image by this many pixels (rounding in annotation tools); they are clipped. */
export const BOX_TOLERANCE_PX = 1;

export interface BadImage {
  imageId: number;
  file: string;
  reason: string;
}

export interface BadAnnotation {
  annotationId: number;
  imageId: number;
  reason: string;
}

export interface BadDataReport {
  missingImages: BadImage[];
  corruptImages: BadImage[];
  /** The file decodes but its size differs from the annotation file's width/height. */
  sizeMismatches: BadImage[];
  badBoxes: BadAnnotation[];
  unknownCategories: BadAnnotation[];
  unknownImages: BadAnnotation[];
}

export function countProblems(r: BadDataReport): number {
  return Object.values(r).reduce((n, list: unknown[]) => n + list.length, 0);
}

/** Why a box is unusable, or undefined when it is fine. */
export function boxProblem(bbox: readonly number[], width: number, height: number): string | undefined {
  const [x, y, w, h] = bbox;
  if (!(w > 0 && h > 0)) return `non-positive size (w=${w}, h=${h})`;
  const t = BOX_TOLERANCE_PX;
  const clippedW = Math.min(x + w, width) - Math.max(x, 0);
  const clippedH = Math.min(y + h, height) - Math.max(y, 0);
  if (x < -t || y < -t || x + w > width + t || y + h > height + t || clippedW <= 0 || clippedH <= 0) {
    return `outside the ${width}x${height} image ([${bbox.join(', ')}])`;
  }
  return undefined;
}

async function mapLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Checks annotations against themselves and each image file's header. */
export async function checkCocoData(coco: CocoJson, imgDir: string): Promise<BadDataReport> {
  const report: BadDataReport = {
    missingImages: [],
    corruptImages: [],
    sizeMismatches: [],
    badBoxes: [],
    unknownCategories: [],
    unknownImages: [],
  };
  await mapLimited(coco.images, 8, async (im) => {
    const file = join(imgDir, im.file_name);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      report.missingImages.push({ imageId: im.id, file, reason: code === 'ENOENT' ? 'no such file' : `cannot read (${code})` });
      return;
    }
    try {
      const size = await readImageSize(bytes);
      if (size.width !== im.width || size.height !== im.height) {
        report.sizeMismatches.push({
          imageId: im.id,
          file,
          reason: `file is ${size.width}x${size.height}, annotations say ${im.width}x${im.height}`,
        });
      }
    } catch (err) {
      report.corruptImages.push({ imageId: im.id, file, reason: (err as Error).message.split('\n')[0] });
    }
  });
  const images = new Map(coco.images.map((im) => [im.id, im]));
  const categories = new Set(coco.categories.map((c) => c.id));
  for (const a of coco.annotations) {
    const im = images.get(a.image_id);
    if (!im) {
      report.unknownImages.push({ annotationId: a.id, imageId: a.image_id, reason: `image id ${a.image_id} is not in "images"` });
      continue;
    }
    if (!categories.has(a.category_id)) {
      report.unknownCategories.push({ annotationId: a.id, imageId: a.image_id, reason: `category id ${a.category_id} is not in "categories"` });
    }
    const problem = boxProblem(a.bbox, im.width, im.height);
    if (problem) report.badBoxes.push({ annotationId: a.id, imageId: a.image_id, reason: problem });
  }
  // Concurrent checks finish in any order; report in id order so the text is stable.
  for (const list of [report.missingImages, report.corruptImages, report.sizeMismatches]) list.sort((a, b) => a.imageId - b.imageId);
  return report;
}

const TITLES: Record<keyof BadDataReport, string> = {
  missingImages: 'missing image files',
  corruptImages: 'corrupt images',
  sizeMismatches: 'images whose size differs from the annotations',
  badBoxes: 'bad boxes',
  unknownCategories: 'unknown category ids',
  unknownImages: 'annotations of unknown images',
};

/** A readable report, at most `perKind` entries of each kind. */
export function formatBadDataReport(r: BadDataReport, perKind = 10): string {
  const lines: string[] = [];
  for (const key of Object.keys(TITLES) as (keyof BadDataReport)[]) {
    const list = r[key] as (BadImage | BadAnnotation)[];
    if (list.length === 0) continue;
    lines.push(`${TITLES[key]} (${list.length}):`);
    for (const item of list.slice(0, perKind)) {
      lines.push(
        'annotationId' in item
          ? `  annotation ${item.annotationId} (image ${item.imageId}): ${item.reason}`
          : `  image ${item.imageId} (${item.file}): ${item.reason}`,
      );
    }
    if (list.length > perKind) lines.push(`  ... and ${list.length - perKind} more`);
  }
  return lines.join('\n');
}

/** The annotation file without what the report lists: bad images (and their annotations) and bad annotations. */
export function withoutBadData(coco: CocoJson, r: BadDataReport): CocoJson {
  const badImages = new Set([...r.missingImages, ...r.corruptImages, ...r.sizeMismatches].map((b) => b.imageId));
  const badAnns = new Set([...r.badBoxes, ...r.unknownCategories, ...r.unknownImages].map((b) => b.annotationId));
  return {
    images: coco.images.filter((im) => !badImages.has(im.id)),
    annotations: coco.annotations.filter((a) => !badAnns.has(a.id) && !badImages.has(a.image_id)),
    categories: coco.categories,
  };
}
