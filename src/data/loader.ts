// Batches for the trainer: a seeded order per epoch, decoding and transforms running a few batches
// ahead (sharp decodes on libuv's thread pool, so it overlaps the model's work), and collation
// into plain typed arrays; the trainer turns them into tensors.

import type { CocoDataset } from './dataset.js';
import { createRng, mixSeed, shuffledIndices } from './rng.js';
import type { Sample, Transform } from './transforms.js';

export interface DataBatch {
  /** NHWC float32: transformed images, zero-padded at the bottom/right to `shape`. */
  images: Float32Array;
  shape: [n: number, height: number, width: number, channels: 3];
  /** Per image [height, width] after resizing, before padding (torchvision's `image_sizes`). */
  imageSizes: [number, number][];
  /** Per image [height, width] of the file. */
  originalSizes: [number, number][];
  /** Per image [sy, sx]: resized size / original size. Boxes / scale = original pixels. */
  scaleFactors: [number, number][];
  flipped: boolean[];
  imageIds: number[];
  /** Per image [k * 4] x1, y1, x2, y2 in transformed-image pixels. */
  boxes: Float32Array[];
  /** Per image [k] labels 1..K (0 = background). */
  labels: Int32Array[];
  /** Per image crowd regions (iscrowd), transformed like `boxes`; not targets. */
  crowdBoxes: Float32Array[];
  epoch: number;
  /** Index of this batch within its epoch. */
  index: number;
}

export interface LoaderOptions {
  batchSize: number;
  shuffle: boolean;
  seed: number;
  /** Batches decoded ahead of the one being consumed. */
  prefetch: number;
  /** Drop the last incomplete batch. */
  dropLast?: boolean;
}

/** Collates transformed samples, padding to the largest size rounded up to the pad divisor. */
export function collate(samples: readonly Sample[], epoch: number, index: number): DataBatch {
  const divisor = Math.max(...samples.map((s) => s.padDivisor));
  const h = Math.ceil(Math.max(...samples.map((s) => s.height)) / divisor) * divisor;
  const w = Math.ceil(Math.max(...samples.map((s) => s.width)) / divisor) * divisor;
  const images = new Float32Array(samples.length * h * w * 3);
  samples.forEach((s, n) => {
    for (let y = 0; y < s.height; y++) {
      const src = s.image.subarray(y * s.width * 3, (y + 1) * s.width * 3);
      images.set(src, ((n * h + y) * w) * 3);
    }
  });
  return {
    images,
    shape: [samples.length, h, w, 3],
    imageSizes: samples.map((s) => [s.height, s.width]),
    originalSizes: samples.map((s) => [s.originalHeight, s.originalWidth]),
    scaleFactors: samples.map((s) => s.scaleFactor),
    flipped: samples.map((s) => s.flipped),
    imageIds: samples.map((s) => s.imageId),
    boxes: samples.map((s) => s.boxes),
    labels: samples.map((s) => s.labels),
    crowdBoxes: samples.map((s) => s.crowdBoxes),
    epoch,
    index,
  };
}

export class DetectionLoader {
  constructor(
    readonly dataset: CocoDataset,
    readonly pipeline: readonly Transform[],
    readonly options: LoaderOptions,
  ) {}

  get batchesPerEpoch(): number {
    const n = this.dataset.length / this.options.batchSize;
    return this.options.dropLast ? Math.floor(n) : Math.ceil(n);
  }

  /** Dataset indices in the order of `epoch`: a pure function of (seed, epoch). */
  order(epoch: number): number[] {
    const n = this.dataset.length;
    if (!this.options.shuffle) return Array.from({ length: n }, (_, i) => i);
    return shuffledIndices(n, createRng(mixSeed(this.options.seed, epoch, 0x5eed)));
  }

  private async sample(epoch: number, position: number, index: number): Promise<Sample> {
    const rng = createRng(mixSeed(this.options.seed, epoch, position, 0xf11e));
    let s = await this.dataset.readSample(index);
    for (const t of this.pipeline) s = t(s, rng);
    return s;
  }

  private async batch(epoch: number, b: number, order: readonly number[]): Promise<DataBatch> {
    const { batchSize } = this.options;
    const positions = order.slice(b * batchSize, (b + 1) * batchSize).map((index, k) => [b * batchSize + k, index]);
    const samples = await Promise.all(positions.map(([pos, index]) => this.sample(epoch, pos, index)));
    return collate(samples, epoch, b);
  }

  /** The batches of `epoch` from batch `start` on, decoded `prefetch` batches ahead. */
  async *batches(epoch: number, start = 0): AsyncGenerator<DataBatch> {
    const order = this.order(epoch);
    const total = this.batchesPerEpoch;
    const queue: Promise<DataBatch>[] = [];
    let next = start;
    const fill = (): void => {
      while (next < total && queue.length <= this.options.prefetch) {
        const p = this.batch(epoch, next++, order);
        p.catch(() => undefined); // rejections surface when awaited below, never as unhandled
        queue.push(p);
      }
    };
    fill();
    while (queue.length > 0) {
      const batch = await queue.shift()!;
      fill();
      yield batch;
    }
  }

  /** Batches hold plain arrays: nothing to free (present for the trainer's BatchSource contract). */
  dispose(_batch: DataBatch): void {}
}
