// The peak memory of one detector training step, from the model's shapes: the activations of
// every backbone conv at its stride, the FPN levels, the RPN head and its losses over every
// anchor, RoIAlign's row buffer and the box head, times a factor for what the tape keeps and the
// backward pass adds, plus weights, gradients and momentum. The factor and the fixed part were
// calibrated against the wasm heap size a real step reached (docs/training.md has the figures).
import type { FasterRCNN } from '../models/detection/faster-rcnn.js';
import { anchorsPerLocation, numLevels } from '../models/detection/anchors.js';

/** Float32 copies of each convolution output the tape keeps and the backward pass adds (conv, BatchNorm, activation, gradient). */
export const TAPE_FACTOR = 3.2;
/** Copies of RoIAlign's row buffer and the box head's activations at the peak (forward rows, gathered taps, their gradients). */
export const ROI_FACTOR = 3.6;
/** The runtime before any tensor: the wasm module, kernels' scratch buffers, the data pipeline. */
export const FIXED_BYTES = 100 * 2 ** 20;
/** The wasm heap is 32-bit: 4 GiB at most. */
export const WASM_HEAP_BYTES = 4 * 2 ** 30;

export interface StepShape {
  /** Images per forward pass. */
  images: number;
  /** The padded input size `[H, W]`. */
  size: [number, number];
}

export interface MemoryEstimate {
  bytes: number;
  /** Bytes by stage: backbone, fpn, rpn, roi, parameters, fixed. */
  stages: Record<string, number>;
}

const SPEC_LAYER = /^backbone\.features\.(\d+)\./;

/** The peak bytes of one training step of `shape` (one forward pass and its backward). */
export function estimateStepMemory(detector: FasterRCNN, shape: StepShape): MemoryEstimate {
  const { images, size: [h, w] } = shape;
  const pixels = (stride: number) => Math.ceil(h / stride) * Math.ceil(w / stride);
  const info = detector.backbone.featureInfo;
  const strideOf = (layer: number) => info.find((f) => f.index === layer)?.stride ?? 1;
  // backbone: every conv's output at its resolution; a block's leading 1x1 (the expansion) runs
  // at the block's input stride, the rest at its output stride
  let backbone = 0;
  const seen = new Set<number>();
  for (const spec of detector.specs) {
    const layer = SPEC_LAYER.exec(spec.name)?.[1];
    if (layer === undefined || spec.shape.length !== 4 || !spec.name.endsWith('.weight')) continue;
    const i = Number(layer);
    const [kh, kw, cin, cout] = spec.shape;
    const first = !seen.has(i);
    seen.add(i);
    const stride = first && i > 0 && kh === 1 && kw === 1 ? strideOf(i - 1) : strideOf(i);
    backbone += (cout === 1 ? cin : cout) * pixels(stride);
  }
  // FPN: lateral, top-down sum and output conv per input level; extra levels are small
  const cfg = detector.config;
  const inputStrides = cfg.backbone.outIndices.map(strideOf);
  const levels = numLevels(cfg.rpn.anchors);
  const levelStrides = Array.from({ length: levels }, (_, l) => inputStrides[l] ?? inputStrides[inputStrides.length - 1] * 2 ** (l - inputStrides.length + 1));
  const channels = detector.specs.find((s) => s.name === 'neck.output.0.weight')?.shape[3] ?? 256;
  const fpn = inputStrides.reduce((n, s) => n + 3 * channels * pixels(s), 0);
  // RPN: head conv (+ReLU) and its two outputs per level; the losses' element-wise terms per anchor
  let anchors = 0;
  let rpn = 0;
  levelStrides.forEach((s, l) => {
    const a = anchorsPerLocation(cfg.rpn.anchors, l);
    anchors += a * pixels(s);
    rpn += (2 * channels + 5 * a) * pixels(s);
  });
  rpn += 48 * anchors;
  // RoIAlign: per RoI, outputSize rows of the finest RoI level (worst case: every RoI there),
  // then the box head's two fc layers and the predictors
  const roiCfg = cfg.roiHead;
  const rois = roiCfg.batchSizePerImage;
  const finest = levelStrides[Math.min(...roiCfg.featmapLevels)];
  const roi = rois * (roiCfg.outputSize * Math.ceil(w / finest) * channels + 3 * roiCfg.outputSize ** 2 * channels + 4 * roiCfg.representationSize);
  const params = detector.specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
  const perImage = { backbone, fpn, rpn, roi };
  const stages: Record<string, number> = Object.fromEntries(Object.entries(perImage).map(([k, v]) => [k, 4 * (k === 'roi' ? ROI_FACTOR : TAPE_FACTOR) * images * v]));
  // weights, gradients, momentum, and the sum of micro-batch gradients
  stages.parameters = 4 * 4 * params;
  stages.fixed = FIXED_BYTES;
  return { bytes: Object.values(stages).reduce((a, b) => a + b, 0), stages };
}

/** The largest input the transform can produce for a batch: one image minSize x maxSize, more padded to maxSize square (mixed orientations). */
export function worstCaseSize(transform: { minSize: number; maxSize: number; sizeDivisible: number }, images: number): [number, number] {
  const pad = (n: number) => Math.ceil(n / transform.sizeDivisible) * transform.sizeDivisible;
  return [pad(images > 1 ? transform.maxSize : transform.minSize), pad(transform.maxSize)];
}

export const formatBytes = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GB`;
