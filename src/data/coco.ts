// COCO detection annotations (`instances_*.json`): parse, check the structure, and index them.
// Category ids may be any integers; training labels are 1..K in ascending category-id order
// (0 = background, as torchvision counts), and `labelToCategoryId` maps them back.

import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';

export interface CocoImage {
  id: number;
  file_name: string;
  width: number;
  height: number;
}

export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  /** [x, y, width, height] in pixels. */
  bbox: [number, number, number, number];
  /** Object area (segmentation area in real COCO); defaults to the box area. COCOeval's area ranges use it. */
  area: number;
  iscrowd: 0 | 1;
}

export interface CocoCategory {
  id: number;
  name: string;
  supercategory?: string;
}

export interface CocoJson {
  images: CocoImage[];
  annotations: CocoAnnotation[];
  categories: CocoCategory[];
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Parses and structurally checks an annotation file's text (`file` names it in errors). */
export function parseCocoJson(text: string, file: string): CocoJson {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InputError(`not valid JSON (${(err as Error).message})`, file);
  }
  const o = raw as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || !Array.isArray(o.images) || !Array.isArray(o.categories)) {
    throw new InputError('not a COCO annotation file: expected an object with "images", "annotations" and "categories" lists', file);
  }
  const annotations = o.annotations === undefined ? [] : o.annotations;
  if (!Array.isArray(annotations)) throw new InputError('"annotations" must be a list', file);

  const images = o.images.map((im: Record<string, unknown>, i: number): CocoImage => {
    if (!isFiniteNumber(im?.id) || typeof im.file_name !== 'string' || !isFiniteNumber(im.width) || !isFiniteNumber(im.height)) {
      throw new InputError(`images[${i}] needs numeric id, width, height and a file_name string`, file);
    }
    return { id: im.id, file_name: im.file_name, width: im.width, height: im.height };
  });
  const categories = o.categories.map((c: Record<string, unknown>, i: number): CocoCategory => {
    if (!isFiniteNumber(c?.id) || typeof c.name !== 'string') throw new InputError(`categories[${i}] needs a numeric id and a name`, file);
    return { id: c.id, name: c.name, ...(typeof c.supercategory === 'string' ? { supercategory: c.supercategory } : {}) };
  });
  const anns = annotations.map((a: Record<string, unknown>, i: number): CocoAnnotation => {
    const bbox = a?.bbox;
    if (!isFiniteNumber(a?.id) || !isFiniteNumber(a.image_id) || !isFiniteNumber(a.category_id)) {
      throw new InputError(`annotations[${i}] needs numeric id, image_id and category_id`, file);
    }
    if (!Array.isArray(bbox) || bbox.length !== 4 || !bbox.every(isFiniteNumber)) {
      throw new InputError(`annotation ${a.id}: bbox must be [x, y, width, height] numbers`, file);
    }
    const box = bbox as [number, number, number, number];
    return {
      id: a.id,
      image_id: a.image_id,
      category_id: a.category_id,
      bbox: box,
      area: isFiniteNumber(a.area) ? a.area : box[2] * box[3],
      iscrowd: a.iscrowd ? 1 : 0,
    };
  });
  for (const [what, list] of [['image', images], ['annotation', anns], ['category', categories]] as const) {
    const seen = new Set<number>();
    for (const item of list) {
      if (seen.has(item.id)) throw new InputError(`${what} id ${item.id} appears twice`, file);
      seen.add(item.id);
    }
  }
  return { images, annotations: anns, categories };
}

export function readCocoJson(file: string): CocoJson {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'annotation file not found' : `cannot read (${code ?? (err as Error).message})`, file);
  }
  return parseCocoJson(text, file);
}

/** Label numbering: 1..K over categories sorted by id. */
export class LabelMap {
  readonly categoryIds: number[];
  readonly names: string[];
  private readonly toLabel: Map<number, number>;

  constructor(categories: readonly CocoCategory[]) {
    const sorted = [...categories].sort((a, b) => a.id - b.id);
    this.categoryIds = sorted.map((c) => c.id);
    this.names = sorted.map((c) => c.name);
    this.toLabel = new Map(sorted.map((c, i) => [c.id, i + 1]));
  }

  /** Number of classes including background (torchvision's `num_classes`). */
  get numClasses(): number {
    return this.categoryIds.length + 1;
  }

  label(categoryId: number): number | undefined {
    return this.toLabel.get(categoryId);
  }

  categoryId(label: number): number {
    const id = this.categoryIds[label - 1];
    if (id === undefined) throw new RangeError(`label ${label} is outside 1..${this.categoryIds.length}`);
    return id;
  }
}
