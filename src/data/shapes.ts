// The synthetic "shapes" dataset: coloured rectangles, ellipses and triangles of several sizes on
// noisy, textured backgrounds, as a COCO dataset (`annotations/instances_{train,val}.json`,
// images in `train/` and `val/`). Deterministic by seed, so demos and tests need no download.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeDirAtomic } from '../io/atomic.js';
import { type Rgb, type RgbImage, encodePng, fillEllipse, fillPolygon } from '../io/image.js';
import type { CocoAnnotation, CocoImage, CocoJson } from './coco.js';
import { createRng, mixSeed } from './rng.js';
import { makeDirs } from '../io/make-dirs.js';

export const SHAPE_CATEGORIES = [
  { id: 1, name: 'rectangle', supercategory: 'shape' },
  { id: 2, name: 'ellipse', supercategory: 'shape' },
  { id: 3, name: 'triangle', supercategory: 'shape' },
] as const;

export interface ShapesOptions {
  train: number;
  val: number;
  /** Image side in pixels (square images). */
  size: number;
  seed: number;
  /** Most shapes per image (at least 1, except for the occasional empty image). */
  maxShapes?: number;
}

/** One drawn shape: its category, COCO box [x, y, w, h] (integers) and exact area. */
interface Placed {
  categoryId: number;
  bbox: [number, number, number, number];
  area: number;
}

function hsvToRgb(h: number, s: number, v: number): Rgb {
  const f = (n: number): number => {
    const k = (n + h * 6) % 6;
    return Math.round(255 * (v - v * s * Math.max(0, Math.min(k, 4 - k, 1))));
  };
  return [f(5), f(3), f(1)];
}

function background(size: number, rng: () => number): RgbImage {
  const data = new Uint8Array(size * size * 3);
  const base = hsvToRgb(rng(), 0.15 + 0.25 * rng(), 0.35 + 0.4 * rng());
  // A low-frequency stripe texture plus per-pixel noise: enough that edges must be learnt.
  const fx = (1 + 4 * rng()) / size;
  const fy = (1 + 4 * rng()) / size;
  const phase = rng() * Math.PI * 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const wave = 25 * Math.sin(2 * Math.PI * (fx * x + fy * y) + phase);
      for (let k = 0; k < 3; k++) {
        const v = base[k] + wave + (rng() - 0.5) * 50;
        data[(y * size + x) * 3 + k] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return { width: size, height: size, data };
}

function iou(a: readonly number[], b: readonly number[]): number {
  const w = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (a[2] * a[3] + b[2] * b[3] - inter);
}

function drawShape(img: RgbImage, categoryId: number, bbox: readonly number[], color: Rgb, rng: () => number): number {
  const [x, y, w, h] = bbox;
  if (categoryId === 1) {
    fillPolygon(img, [[x, y], [x + w, y], [x + w, y + h], [x, y + h]], color);
    return w * h;
  }
  if (categoryId === 2) {
    fillEllipse(img, x + w / 2, y + h / 2, w / 2, h / 2, color);
    return (Math.PI * w * h) / 4;
  }
  // Triangle touching all four sides of its box: apex on one horizontal side, base on the other.
  const apexX = x + Math.round(rng() * w);
  const up = rng() < 0.5;
  const apexY = up ? y : y + h;
  const baseY = up ? y + h : y;
  fillPolygon(img, [[apexX, apexY], [x, baseY], [x + w, baseY]], color);
  return (w * h) / 2;
}

/** Draws one image and its shapes (deterministic in `seed`). */
export function drawShapesImage(size: number, seed: number, maxShapes: number): { image: RgbImage; shapes: Placed[] } {
  const rng = createRng(seed);
  const image = background(size, rng);
  const count = rng() < 0.05 ? 0 : 1 + Math.floor(rng() * maxShapes);
  const shapes: Placed[] = [];
  for (let attempt = 0; shapes.length < count && attempt < 50; attempt++) {
    // Sizes spread over COCO's small / medium / large ranges relative to the image.
    const side = (lo: number, hi: number): number => Math.round(size * (lo + (hi - lo) * rng() ** 1.5));
    const w = Math.max(6, side(0.08, 0.8));
    const h = Math.max(6, Math.min(size, Math.round(w * (0.6 + 0.8 * rng()))));
    const x = Math.floor(rng() * (size - w + 1));
    const y = Math.floor(rng() * (size - h + 1));
    const bbox: [number, number, number, number] = [x, y, w, h];
    if (shapes.some((s) => iou(s.bbox, bbox) > 0.1)) continue;
    const categoryId = 1 + Math.floor(rng() * SHAPE_CATEGORIES.length);
    const color = hsvToRgb(rng(), 0.7 + 0.3 * rng(), 0.7 + 0.3 * rng());
    const area = drawShape(image, categoryId, bbox, color, rng);
    shapes.push({ categoryId, bbox, area });
  }
  return { image, shapes };
}

/** Writes one split; returns its number of annotations. */
async function writeSplit(dir: string, split: 'train' | 'val', n: number, opts: ShapesOptions): Promise<number> {
  makeDirs(join(dir, split));
  const images: CocoImage[] = [];
  const annotations: CocoAnnotation[] = [];
  for (let i = 0; i < n; i++) {
    const id = i + 1;
    const { image, shapes } = drawShapesImage(opts.size, mixSeed(opts.seed, split === 'train' ? 1 : 2, i), opts.maxShapes ?? 3);
    const fileName = `${String(id).padStart(6, '0')}.png`;
    writeFileSync(join(dir, split, fileName), await encodePng(image));
    images.push({ id, file_name: fileName, width: opts.size, height: opts.size });
    for (const s of shapes) {
      annotations.push({ id: annotations.length + 1, image_id: id, category_id: s.categoryId, bbox: s.bbox, area: s.area, iscrowd: 0 });
    }
  }
  const coco: CocoJson = { images, annotations, categories: SHAPE_CATEGORIES.map((c) => ({ ...c })) };
  makeDirs(join(dir, 'annotations'));
  writeFileSync(join(dir, 'annotations', `instances_${split}.json`), `${JSON.stringify(coco)}\n`);
  return annotations.length;
}

/** Writes the dataset to `outDir` atomically (a failed run leaves no partial directory). */
export async function writeShapesDataset(outDir: string, opts: ShapesOptions): Promise<{ train: number; val: number; annotations: number }> {
  let annotations = 0;
  await writeDirAtomic(outDir, async (tmp) => {
    annotations += await writeSplit(tmp, 'train', opts.train, opts);
    annotations += await writeSplit(tmp, 'val', opts.val, opts);
  });
  return { train: opts.train, val: opts.val, annotations };
}
