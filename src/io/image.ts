// Images as plain HWC arrays: decode/encode PNG and JPEG with sharp (imported lazily: it is a
// native module and most commands never touch images), flips, and the bit of raster drawing the
// synthetic dataset and detection overlays need. (Resizing as torchvision does it lives in
// src/models/faster-rcnn/transform.ts.)

/** 8-bit RGB pixels, row-major HWC. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

// sharp 0.35's ESM typings omit the default export (the constructor function), so type it here.
type SharpFn = (input?: Uint8Array, options?: import('sharp').SharpOptions) => import('sharp').Sharp;
let sharpModule: Promise<SharpFn> | undefined;
async function loadSharp(): Promise<SharpFn> {
  sharpModule ??= import('sharp').then((m) => (m as unknown as { default: SharpFn }).default);
  return sharpModule;
}

/** Decodes PNG/JPEG/... bytes to RGB (alpha dropped, greyscale expanded; EXIF orientation ignored, as PIL and torchvision do). */
export async function decodeImage(bytes: Uint8Array): Promise<RgbImage> {
  const sharp = await loadSharp();
  const { data, info } = await sharp(bytes, { failOn: 'error' })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** Width and height from the header only (cheap; used to check a dataset before training). */
export async function readImageSize(bytes: Uint8Array): Promise<{ width: number; height: number; format: string }> {
  const sharp = await loadSharp();
  const meta = await sharp(bytes).metadata();
  if (!meta.width || !meta.height) throw new Error('no image size in the header');
  return { width: meta.width, height: meta.height, format: meta.format ?? 'unknown' };
}

export async function encodePng(img: RgbImage): Promise<Uint8Array> {
  const sharp = await loadSharp();
  const out = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .png({ compressionLevel: 9 })
    .toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

export async function encodeJpeg(img: RgbImage, quality = 90): Promise<Uint8Array> {
  const sharp = await loadSharp();
  const out = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Flips an HWC image left-right in place. */
export function flipHorizontal(data: Float32Array | Uint8Array, height: number, width: number, channels: number): void {
  for (let y = 0; y < height; y++) {
    const row = y * width * channels;
    for (let x = 0; x < width >> 1; x++) {
      const a = row + x * channels;
      const b = row + (width - 1 - x) * channels;
      for (let k = 0; k < channels; k++) {
        const t = data[a + k];
        data[a + k] = data[b + k];
        data[b + k] = t;
      }
    }
  }
}

export type Rgb = readonly [number, number, number];

/** Blends `color` into pixel (x, y) with opacity `alpha` (0..1); out-of-range pixels are skipped. */
export function blendPixel(img: RgbImage, x: number, y: number, color: Rgb, alpha = 1): void {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
  const o = (y * img.width + x) * 3;
  for (let k = 0; k < 3; k++) img.data[o + k] = Math.round(img.data[o + k] * (1 - alpha) + color[k] * alpha);
}

/** Fills every pixel whose centre lies inside `inside(px, py)` within the bounding rectangle. */
export function fillRegion(
  img: RgbImage,
  bounds: { x1: number; y1: number; x2: number; y2: number },
  inside: (px: number, py: number) => boolean,
  color: Rgb,
): void {
  const x1 = Math.max(0, Math.floor(bounds.x1));
  const y1 = Math.max(0, Math.floor(bounds.y1));
  const x2 = Math.min(img.width, Math.ceil(bounds.x2));
  const y2 = Math.min(img.height, Math.ceil(bounds.y2));
  for (let y = y1; y < y2; y++) {
    for (let x = x1; x < x2; x++) if (inside(x + 0.5, y + 0.5)) blendPixel(img, x, y, color);
  }
}

/** Fills a convex or concave polygon (even-odd rule). */
export function fillPolygon(img: RgbImage, points: readonly (readonly [number, number])[], color: Rgb): void {
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const bounds = { x1: Math.min(...xs), y1: Math.min(...ys), x2: Math.max(...xs), y2: Math.max(...ys) };
  fillRegion(img, bounds, (px, py) => {
    let inside = false;
    for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
      const [xi, yi] = points[i];
      const [xj, yj] = points[j];
      if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }, color);
}

/** Fills an axis-aligned ellipse centred at (cx, cy) with radii rx, ry. */
export function fillEllipse(img: RgbImage, cx: number, cy: number, rx: number, ry: number, color: Rgb): void {
  fillRegion(img, { x1: cx - rx, y1: cy - ry, x2: cx + rx, y2: cy + ry }, (px, py) => {
    const dx = (px - cx) / rx;
    const dy = (py - cy) / ry;
    return dx * dx + dy * dy <= 1;
  }, color);
}

/** Draws the outline of a box [x1, y1, x2, y2] `thickness` pixels wide, inside the box. */
export function strokeBox(img: RgbImage, box: readonly number[], color: Rgb, thickness = 2): void {
  const [x1, y1, x2, y2] = box.map(Math.round);
  for (let t = 0; t < thickness; t++) {
    for (let x = x1; x <= x2; x++) {
      blendPixel(img, x, y1 + t, color);
      blendPixel(img, x, y2 - t, color);
    }
    for (let y = y1; y <= y2; y++) {
      blendPixel(img, x1 + t, y, color);
      blendPixel(img, x2 - t, y, color);
    }
  }
}
