// torchvision's GeneralizedRCNNTransform, in eval mode, on plain arrays: normalise, resize so the
// short side is minSize unless the long side would exceed maxSize (scale computed in float32,
// output size floor(size * scale), bilinear with align_corners=False), then zero-pad the batch to
// a multiple of sizeDivisible. Boxes found on the resized image map back with the float32 ratio.
import type { TransformConfig } from './config.js';

const f = Math.fround;

/** An RGB image, HWC. uint8 pixels are divided by 255; float pixels are taken as already in [0, 1]. */
export interface RGBImage {
  height: number;
  width: number;
  data: Uint8Array | Float32Array;
}

export interface TransformedBatch {
  /** NHWC `[batch, height, width, 3]`, normalised, zero-padded. */
  data: Float32Array;
  shape: [number, number, number, 3];
  /** Size of each image after resizing, before padding: `[h, w]`. */
  imageSizes: Array<[number, number]>;
  originalSizes: Array<[number, number]>;
}

/** torchvision's resize: the output size of an `h x w` image. */
export function resizedSize(height: number, width: number, minSize: number, maxSize: number): [number, number] {
  const scale = Math.min(f(minSize / Math.min(height, width)), f(maxSize / Math.max(height, width)));
  return [Math.floor(height * scale), Math.floor(width * scale)];
}

/**
 * PyTorch's upsample_bilinear2d source indices and weights along one axis (align_corners=False):
 * the scale in/out is a float32, the source position is computed from it in double precision and
 * the weights are float32 (checked against torch 1.13's CPU kernel to ~1e-7).
 */
function linearTaps(inSize: number, outSize: number): { i0: Int32Array; i1: Int32Array; w0: Float32Array; w1: Float32Array } {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const w0 = new Float32Array(outSize);
  const w1 = new Float32Array(outSize);
  const scale = f(inSize / outSize);
  for (let o = 0; o < outSize; o++) {
    if (inSize === outSize) {
      i0[o] = i1[o] = o;
      w0[o] = 1;
      continue;
    }
    const src = Math.max(scale * (o + 0.5) - 0.5, 0);
    i0[o] = Math.trunc(src);
    i1[o] = i0[o] + (i0[o] < inSize - 1 ? 1 : 0);
    w1[o] = f(Math.min(Math.max(src - i0[o], 0), 1));
    w0[o] = f(1 - w1[o]);
  }
  return { i0, i1, w0, w1 };
}

/** Normalises and resizes one image; returns HWC float32 of the resized size. */
export function normalizeAndResize(image: RGBImage, config: TransformConfig): { data: Float32Array; size: [number, number] } {
  const { height: h, width: w, data } = image;
  const normalised = new Float32Array(h * w * 3);
  const toUnit = data instanceof Uint8Array;
  const mean = config.imageMean.map(f);
  const std = config.imageStd.map(f);
  for (let i = 0; i < h * w * 3; i++) {
    const v = toUnit ? f(data[i] / 255) : data[i];
    normalised[i] = f(f(v - mean[i % 3]) / std[i % 3]);
  }
  const [oh, ow] = resizedSize(h, w, config.minSize, config.maxSize);
  // same size: the bilinear taps are (1, 0) on both axes, so resizing would copy every value
  if (oh === h && ow === w) return { data: normalised, size: [h, w] };
  const ty = linearTaps(h, oh);
  const tx = linearTaps(w, ow);
  const out = new Float32Array(oh * ow * 3);
  for (let y = 0; y < oh; y++) {
    const r0 = ty.i0[y] * w * 3;
    const r1 = ty.i1[y] * w * 3;
    for (let x = 0; x < ow; x++) {
      const c0 = tx.i0[x] * 3;
      const c1 = tx.i1[x] * 3;
      for (let c = 0; c < 3; c++) {
        const top = f(f(normalised[r0 + c0 + c] * tx.w0[x]) + f(normalised[r0 + c1 + c] * tx.w1[x]));
        const bottom = f(f(normalised[r1 + c0 + c] * tx.w0[x]) + f(normalised[r1 + c1 + c] * tx.w1[x]));
        out[(y * ow + x) * 3 + c] = f(f(top * ty.w0[y]) + f(bottom * ty.w1[y]));
      }
    }
  }
  return { data: out, size: [oh, ow] };
}

/** The whole eval-mode transform of a batch of images. */
export function transformImages(images: RGBImage[], config: TransformConfig): TransformedBatch {
  const resized = images.map((im) => normalizeAndResize(im, config));
  const d = config.sizeDivisible;
  const ph = Math.ceil(Math.max(...resized.map((r) => r.size[0])) / d) * d;
  const pw = Math.ceil(Math.max(...resized.map((r) => r.size[1])) / d) * d;
  const data = new Float32Array(images.length * ph * pw * 3);
  resized.forEach((r, b) => {
    const [h, w] = r.size;
    for (let y = 0; y < h; y++) data.set(r.data.subarray(y * w * 3, (y + 1) * w * 3), ((b * ph + y) * pw) * 3);
  });
  return {
    data,
    shape: [images.length, ph, pw, 3],
    imageSizes: resized.map((r) => r.size),
    originalSizes: images.map((im) => [im.height, im.width]),
  };
}

/** Maps boxes (flat rows) from the resized image back to the original one, in place. */
export function boxesToOriginal(boxes: Float32Array, resized: [number, number], original: [number, number]): Float32Array {
  const ry = f(original[0] / resized[0]);
  const rx = f(original[1] / resized[1]);
  for (let i = 0; i < boxes.length; i += 4) {
    boxes[i] = f(boxes[i] * rx);
    boxes[i + 1] = f(boxes[i + 1] * ry);
    boxes[i + 2] = f(boxes[i + 2] * rx);
    boxes[i + 3] = f(boxes[i + 3] * ry);
  }
  return boxes;
}
