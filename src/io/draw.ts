// Detections drawn onto an image (for `torchport detect --out`): boxes and "label score" tags as
// an SVG overlay that sharp composites and encodes as PNG. sharp is imported lazily.
import type { RgbImage } from './image.js';

export interface DrawnBox {
  box: [number, number, number, number];
  label: string;
  score: number;
  /** Colour index (e.g. the class id), so one class keeps one colour. */
  colorIndex: number;
}

const PALETTE = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#bfef45', '#fabed4', '#469990', '#9a6324', '#800000'];

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string);
}

/** The SVG overlay for `boxes` on a `width` x `height` image. */
export function detectionsSvg(width: number, height: number, boxes: DrawnBox[]): string {
  const stroke = Math.max(2, Math.round(Math.min(width, height) / 200));
  const font = Math.max(11, Math.round(Math.min(width, height) / 40));
  const parts = boxes.map(({ box: [x1, y1, x2, y2], label, score, colorIndex }) => {
    const color = PALETTE[colorIndex % PALETTE.length];
    const text = `${escapeXml(label)} ${score.toFixed(2)}`;
    const tagW = Math.ceil(text.length * font * 0.6) + 4;
    const tagY = y1 - font - 4 >= 0 ? y1 - font - 4 : y1;
    return (
      `<rect x="${x1}" y="${y1}" width="${Math.max(0, x2 - x1)}" height="${Math.max(0, y2 - y1)}" fill="none" stroke="${color}" stroke-width="${stroke}"/>` +
      `<rect x="${x1}" y="${tagY}" width="${tagW}" height="${font + 4}" fill="${color}"/>` +
      `<text x="${x1 + 2}" y="${tagY + font}" font-family="sans-serif" font-size="${font}" fill="#ffffff">${text}</text>`
    );
  });
  return `<svg width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`;
}

/** PNG bytes of `image` with `boxes` drawn on it. */
export async function drawDetections(image: RgbImage, boxes: DrawnBox[]): Promise<Uint8Array> {
  const sharp = (await import('sharp')).default as unknown as (input: Uint8Array, options?: object) => import('sharp').Sharp;
  const out = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .composite([{ input: Buffer.from(detectionsSvg(image.width, image.height, boxes)), top: 0, left: 0 }])
    .removeAlpha()
    .png()
    .toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
