// Per-image transforms, registered by name, in torchvision's detection semantics: flip in the
// dataset, then what GeneralizedRCNNTransform does (normalise, resize by min/max size with float32
// arithmetic, pad the batch to a multiple of 32). Options left out take the model's `transform`.
// Resizing reuses the detector's own transform code, so training sees what inference sees.

import type { TransformConfig } from '../models/faster-rcnn/config.js';
import { normalizeAndResize } from '../models/faster-rcnn/transform.js';
import { Registry } from '../registry.js';
import { flipHorizontal } from '../io/image.js';
import { type Schema, int, num, obj, optional, tuple } from '../schema.js';

/** One image on its way through the pipeline. */
export interface Sample {
  imageId: number;
  /** HWC float32, 3 channels: [0, 1] after decoding, normalised after Normalize. */
  image: Float32Array;
  height: number;
  width: number;
  originalHeight: number;
  originalWidth: number;
  /** [n * 4] x1, y1, x2, y2 in the current image's pixels. */
  boxes: Float32Array;
  /** [n] 1..K (0 is background). */
  labels: Int32Array;
  /** [m * 4] crowd regions (`iscrowd: 1`), transformed like the boxes; not training targets. */
  crowdBoxes: Float32Array;
  /** [sy, sx]: current size / original size. */
  scaleFactor: [number, number];
  flipped: boolean;
  /** Set by Pad: the batch is padded to a multiple of this. */
  padDivisor: number;
}

export type Transform = (sample: Sample, rng: () => number) => Sample;

export interface TransformEntry {
  /** Options besides `type`. */
  schema: Schema;
  build(options: Record<string, unknown>, model: TransformConfig): Transform;
}

export const transforms = new Registry<TransformEntry>('transform');

function flipBoxes(boxes: Float32Array, width: number): void {
  for (let i = 0; i < boxes.length; i += 4) {
    const x1 = boxes[i];
    boxes[i] = width - boxes[i + 2];
    boxes[i + 2] = width - x1;
  }
}

transforms.register('RandomFlip', {
  schema: obj({ prob: optional(num({ min: 0, max: 1 })) }),
  build: (o) => {
    const prob = (o.prob as number | undefined) ?? 0.5;
    return (s, rng) => {
      if (!(rng() < prob)) return s;
      flipHorizontal(s.image, s.height, s.width, 3);
      flipBoxes(s.boxes, s.width);
      flipBoxes(s.crowdBoxes, s.width);
      return { ...s, flipped: !s.flipped };
    };
  },
});

const triple = tuple(num(), num(), num());

transforms.register('Normalize', {
  schema: obj({ mean: optional(triple), std: optional(triple) }),
  build: (o, model) => {
    const mean = (o.mean as number[] | undefined) ?? model.imageMean;
    const std = (o.std as number[] | undefined) ?? model.imageStd;
    const f = Math.fround;
    return (s) => {
      const img = s.image;
      for (let i = 0; i < img.length; i += 3) {
        for (let k = 0; k < 3; k++) img[i + k] = f(f(img[i + k] - f(mean[k])) / f(std[k]));
      }
      return s;
    };
  },
});

function scaleBoxes(boxes: Float32Array, sy: number, sx: number): void {
  const f = Math.fround;
  for (let i = 0; i < boxes.length; i += 4) {
    boxes[i] = f(boxes[i] * sx);
    boxes[i + 1] = f(boxes[i + 1] * sy);
    boxes[i + 2] = f(boxes[i + 2] * sx);
    boxes[i + 3] = f(boxes[i + 3] * sy);
  }
}

transforms.register('Resize', {
  schema: obj({ minSize: optional(int({ min: 1 })), maxSize: optional(int({ min: 1 })) }),
  build: (o, model) => {
    const minSize = (o.minSize as number | undefined) ?? model.minSize;
    const maxSize = (o.maxSize as number | undefined) ?? model.maxSize;
    // The model's own resize (bilinear, PyTorch's arithmetic), with normalisation left to Normalize.
    const resize = { minSize, maxSize, imageMean: [0, 0, 0], imageStd: [1, 1, 1], sizeDivisible: 1 } satisfies TransformConfig;
    return (s) => {
      const { data: image, size: [h, w] } = normalizeAndResize({ height: s.height, width: s.width, data: s.image }, resize);
      // torchvision's resize_boxes: float32 ratios new/old per axis.
      const sy = Math.fround(h / s.height);
      const sx = Math.fround(w / s.width);
      scaleBoxes(s.boxes, sy, sx);
      scaleBoxes(s.crowdBoxes, sy, sx);
      return {
        ...s,
        image,
        height: h,
        width: w,
        scaleFactor: [h / s.originalHeight, w / s.originalWidth],
      };
    };
  },
});

transforms.register('Pad', {
  schema: obj({ sizeDivisor: optional(int({ min: 1 })) }),
  build: (o, model) => {
    const divisor = (o.sizeDivisor as number | undefined) ?? model.sizeDivisible;
    return (s) => ({ ...s, padDivisor: divisor });
  },
});

/** Builds a pipeline from `[{type, ...options}]` (types checked by the config validator). */
export function buildPipeline(configs: readonly Record<string, unknown>[], model: TransformConfig): Transform[] {
  return configs.map(({ type, ...options }) => transforms.get(type as string).build(options, model));
}

/** The default training pipeline: torchvision's references (flip 0.5) + the model transform. */
export const DEFAULT_TRAIN_PIPELINE = [{ type: 'RandomFlip', prob: 0.5 }, { type: 'Normalize' }, { type: 'Resize' }, { type: 'Pad' }];
export const DEFAULT_TEST_PIPELINE = [{ type: 'Normalize' }, { type: 'Resize' }, { type: 'Pad' }];
