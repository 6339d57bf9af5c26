// Before epoch 1: will a training step of the configured batch and image size fit in memory on
// this backend (the 32-bit wasm heap, the machine's free memory)? If not, micro-batching when its
// gradients are the whole batch's, or one line with the estimate and what would fit, instead of
// a crash in iteration 1. The same estimate gives an out-of-memory error its advice.
import { freemem } from 'node:os';
import type { FasterRCNN } from '../models/faster-rcnn/faster-rcnn.js';
import { InputError } from '../errors.js';
import { WASM_HEAP_BYTES, estimateStepMemory, formatBytes, worstCaseSize } from './memory-estimate.js';

export interface MemorySetting {
  detector: FasterRCNN;
  backend: string;
  batchSize: number;
  transform: { minSize: number; maxSize: number; sizeDivisible: number };
  /** data.microBatch: images per forward pass; null or absent chooses from the estimate. */
  microBatch?: number | null;
  /** data.allowInexactMicroBatch: micro-batches even where BatchNorm normalises over each one. */
  allowInexactMicroBatch?: boolean;
  /** Some BatchNorm uses batch statistics in training (not frozen, no normEval). */
  batchStatistics: boolean;
  /** Free memory of the machine (default: what the OS reports). */
  freeBytes?: number;
  /** The config, named by the refusals. */
  file?: string;
}

export interface MemoryPlan {
  /** Images per forward pass, when below the batch size. */
  microBatch?: number;
  /** One line for the log. */
  line: string;
}

/** What a step may take: the wasm heap or the free memory, whichever is smaller; unknown on a GPU. */
export function memoryLimit(backend: string, freeBytes = freemem()): { bytes: number; what: string } | undefined {
  if (backend === 'webgpu') return undefined;
  if (backend === 'wasm' && WASM_HEAP_BYTES <= freeBytes) return { bytes: WASM_HEAP_BYTES, what: `the ${formatBytes(WASM_HEAP_BYTES)} wasm heap` };
  return { bytes: freeBytes, what: `the ${formatBytes(freeBytes)} of free memory` };
}

const INEXACT =
  'BatchNorm in train mode normalises over each micro-batch, so the gradients are not the whole batch\'s: ' +
  'set data.allowInexactMicroBatch: true to accept that, or model.backbone.normEval: true';

/** Images per step and per forward pass, from data.microBatch or, when unset, from the estimate; an InputError when nothing configured fits. */
export function planMemory(s: MemorySetting): MemoryPlan {
  const batch = s.batchSize;
  const size = worstCaseSize(s.transform, batch);
  const need = (images: number) => estimateStepMemory(s.detector, { images, size }).bytes;
  const limit = memoryLimit(s.backend, s.freeBytes);
  const fits = (images: number) => !limit || need(images) <= limit.bytes;
  const shape = `${batch} image${batch > 1 ? 's' : ''} padded to ${size[0]}x${size[1]}`;
  const against = limit ? ` of ${limit.what}` : '';
  if (s.microBatch && s.microBatch < batch) {
    if (s.batchStatistics && !s.allowInexactMicroBatch) throw new InputError(`data.microBatch: ${INEXACT}`, s.file);
    if (!fits(s.microBatch)) throw new InputError(`data.microBatch: ${tooLarge(s, `micro-batches of ${s.microBatch} (${shape})`, need(s.microBatch))}`, s.file);
    return { microBatch: s.microBatch, line: `memory: micro-batches of ${s.microBatch}, about ${formatBytes(need(s.microBatch))}${against} per step (${shape})` };
  }
  if (fits(batch)) return { line: `memory: about ${formatBytes(need(batch))}${against} per step (${shape})` };
  // data.microBatch equal to data.batchSize: whole batches even against the estimate
  if (s.microBatch) return { line: `memory: about ${formatBytes(need(batch))} per step (${shape}), more than ${limit!.what}; whole batches as data.microBatch says` };
  const k = largest(batch - 1, fits);
  if (k > 0 && (!s.batchStatistics || s.allowInexactMicroBatch)) {
    return { microBatch: k, line: `memory: ${shape} need about ${formatBytes(need(batch))}, more than ${limit!.what}: micro-batches of ${k} (about ${formatBytes(need(k))}), ${s.batchStatistics ? 'BatchNorm over each (data.allowInexactMicroBatch)' : 'same gradients'}` };
  }
  throw new InputError(`data.batchSize: ${tooLarge(s, shape, need(batch))}`, s.file);
}

/** "a step of ... needs about X, more than Y; what fits: ..." */
function tooLarge(s: MemorySetting, what: string, bytes: number): string {
  const limit = memoryLimit(s.backend, s.freeBytes);
  return `a training step of ${what} needs about ${formatBytes(bytes)} on ${s.backend}, more than ${limit?.what}; ${whatFits(s)}`;
}

/** What would fit, by the estimate: micro-batching, a smaller batch, smaller images. */
export function whatFits(s: MemorySetting): string {
  const limit = memoryLimit(s.backend, s.freeBytes);
  const { batchSize: batch, transform } = s;
  if (!limit) return `lower data.batchSize (now ${batch}) or model.transform.minSize/maxSize (now ${transform.minSize}/${transform.maxSize})`;
  const fitsAt = (images: number, t: MemorySetting['transform'], perPass = images, roisPerImage?: number) =>
    estimateStepMemory(s.detector, { images: perPass, size: worstCaseSize(t, images), roisPerImage }).bytes <= limit.bytes;
  const options: string[] = [];
  const k = largest(batch - 1, (m) => fitsAt(batch, transform, m));
  if (k > 0) options.push(`data.microBatch: ${k}${s.batchStatistics ? ' with data.allowInexactMicroBatch: true (BatchNorm in train mode)' : ''}`);
  const b = largest(batch - 1, (n) => fitsAt(n, transform));
  if (b > 0) options.push(`data.batchSize: ${b}`);
  const step = transform.sizeDivisible;
  const scaled = (m: number): MemorySetting['transform'] => ({ ...transform, minSize: m, maxSize: Math.round((m * transform.maxSize) / transform.minSize) });
  const m = largest(Math.floor((transform.minSize - 1) / step), (i) => fitsAt(batch, scaled(i * step))) * step;
  if (m > 0) options.push(`model.transform.minSize/maxSize: ${m}/${scaled(m).maxSize}`);
  // fewer sampled RoIs per image (halving): RoIAlign's buffers follow the RoIs, not the image
  const counts: number[] = [];
  for (let n = Math.floor(s.detector.config.roiHead.batchSizePerImage / 2); n >= 16; n = Math.floor(n / 2)) counts.push(n);
  const rois = counts.find((n) => fitsAt(batch, transform, batch, n));
  if (rois) options.push(`model.roiHead.batchSizePerImage: ${rois}`);
  return options.length > 0 ? `what fits: ${options.join(', or ')}` : 'nothing this estimate knows of fits: use a machine with more memory';
}

/** The largest n in [1, max] with ok(n) (ok is monotone: false above some n), or 0. */
function largest(max: number, ok: (n: number) => boolean): number {
  for (let n = max; n >= 1; n--) if (ok(n)) return n;
  return 0;
}
