// Detections drawn onto an image (`torchport detect --out`, the demo's pictures): boxes and
// "label score" tags as an SVG overlay that sharp composites and encodes as PNG. Small images are
// enlarged by a whole factor first so that tags can be read. Every box is drawn before any tag, so
// no box hides a tag; each tag goes where it stays inside the picture and off the tags already
// placed (best score first). sharp is imported lazily.
import type { RgbImage } from './image.js';

export interface DrawnBox {
  box: [number, number, number, number];
  label: string;
  score: number;
  /** Colour index (e.g. the class id), so one class keeps one colour. */
  colorIndex: number;
}

/** A tag's rectangle in the drawn picture's pixels. */
export interface TagRect {
  x: number;
  y: number;
  w: number;
  h: number;
}

const PALETTE = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#bfef45', '#fabed4', '#469990', '#9a6324', '#800000'];
/** Images are enlarged to at least this many pixels on their long side. */
const MIN_DRAWN_SIDE = 512;
/** DejaVu Sans Mono's advance width is 0.602 em; a little more leaves room for fallback fonts. */
const CHAR_WIDTH_EM = 0.62;

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string);
}

/** Black text on light colours, white on dark ones. */
function textColor(hex: string): string {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return 0.299 * r + 0.587 * g + 0.114 * b > 150 ? '#000000' : '#ffffff';
}

/** The whole factor by which a `width` x `height` image is enlarged for drawing. */
export function drawScale(width: number, height: number): number {
  return Math.max(1, Math.ceil(MIN_DRAWN_SIDE / Math.max(width, height)));
}

function overlaps(a: TagRect, b: TagRect): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/**
 * Where each box's tag goes on a `width` x `height` picture: above the box, else inside its top,
 * below it, inside its bottom; the first of these inside the picture and clear of the tags placed
 * before it (boxes in the order given), else the first inside the picture. Shifted left at the
 * right edge.
 */
export function placeTags(width: number, height: number, boxes: { box: DrawnBox['box']; w: number; h: number }[]): TagRect[] {
  const placed: TagRect[] = [];
  for (const { box: [x1, y1, , y2], w, h } of boxes) {
    const x = Math.max(0, Math.min(Math.round(x1), width - w));
    const inside = [y1 - h, y1, y2, y2 - h]
      .map((y) => ({ x, y: Math.round(y), w, h }))
      .filter((r) => r.y >= 0 && r.y + h <= height);
    const fallback = { x, y: Math.max(0, Math.min(Math.round(y1), height - h)), w, h };
    placed.push(inside.find((r) => !placed.some((p) => overlaps(p, r))) ?? inside[0] ?? fallback);
  }
  return placed;
}

/** The SVG overlay for `boxes` (in the overlay's pixels) on a `width` x `height` picture. */
export function detectionsSvg(width: number, height: number, boxes: DrawnBox[]): string {
  const side = Math.min(width, height);
  const stroke = Math.max(2, Math.round(side / 170));
  const font = Math.max(12, Math.round(side / 32));
  const pad = Math.ceil(font / 4);
  const best = [...boxes].sort((a, b) => b.score - a.score);
  const texts = best.map((b) => `${b.label} ${b.score.toFixed(2)}`);
  const tags = placeTags(width, height, best.map((b, i) => ({ box: b.box, w: Math.ceil(texts[i].length * font * CHAR_WIDTH_EM) + 2 * pad, h: font + 2 * pad })));
  // The best box is drawn last, on top of the others; then every tag on top of every box.
  const frames = [...best].reverse().map(({ box: [x1, y1, x2, y2], colorIndex }) => {
    const attrs = `x="${x1}" y="${y1}" width="${Math.max(0, x2 - x1)}" height="${Math.max(0, y2 - y1)}" fill="none"`;
    return `<rect ${attrs} stroke="#000000" stroke-opacity="0.55" stroke-width="${stroke + 2}"/><rect ${attrs} stroke="${PALETTE[colorIndex % PALETTE.length]}" stroke-width="${stroke}"/>`;
  });
  const labels = best.map(({ colorIndex }, i) => {
    const color = PALETTE[colorIndex % PALETTE.length];
    const { x, y, w, h } = tags[i];
    return (
      `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="${color}"/>` +
      `<text x="${x + pad}" y="${y + pad + Math.round(font * 0.8)}" font-family="DejaVu Sans Mono, monospace" font-weight="bold" font-size="${font}" fill="${textColor(color)}">${escapeXml(texts[i])}</text>`
    );
  });
  return `<svg width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">${frames.join('')}${labels.join('')}</svg>`;
}

/** PNG bytes of `image`, enlarged by `drawScale`, with `boxes` (in `image`'s pixels) drawn on it. */
export async function drawDetections(image: RgbImage, boxes: DrawnBox[]): Promise<Uint8Array> {
  const sharp = (await import('sharp')).default as unknown as (input: Uint8Array, options?: object) => import('sharp').Sharp;
  const s = drawScale(image.width, image.height);
  const [width, height] = [image.width * s, image.height * s];
  const scaled = boxes.map((b) => ({ ...b, box: b.box.map((v) => v * s) as DrawnBox['box'] }));
  const out = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height)
    .composite([{ input: Buffer.from(detectionsSvg(width, height, scaled)), top: 0, left: 0 }])
    .removeAlpha()
    .png()
    .toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
