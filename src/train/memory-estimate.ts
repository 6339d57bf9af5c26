// The peak memory of one detector training step, from the model's shapes. The activations of
// every backbone conv at its stride, the FPN levels and the RPN head with its losses over every
// anchor are held by the tape; the peak is the larger of two moments: RoIAlign and the box head
// over the sampled RoIs (on top of the tape), or the backward pass through the convolutions. Plus
// weights, gradients, momentum and a gradient sum. The factors were calibrated against the wasm
// heap size real steps reached (docs/training.md has the figures).
import type { FasterRCNN } from '../models/faster-rcnn/faster-rcnn.js';
import { anchorsPerLocation, numLevels } from '../models/faster-rcnn/anchors.js';

/** Float32 copies of each activation the tape holds until the backward pass. */
export const TAPE_FACTOR = 1;
/** Float32 copies of each activation at the backward pass's peak (the tape, gradients, kernels' scratch). */
export const BACKWARD_FACTOR = 2.4;
/**
 * Float32 values per pooled RoI value (outputSize² x channels) at RoIAlign's peak when the finest
 * RoI level has stride 4: the pooled values, their gradient and the box head's input (counted, not
 * measured: the backward pass was the peak of every step measured); a coarser finest level takes
 * proportionally fewer.
 */
export const ROI_FACTOR = 4;
/** The runtime before any tensor: the wasm module, kernels' scratch buffers, the data pipeline. */
export const FIXED_BYTES = 250 * 2 ** 20;
/** The wasm heap is 32-bit: 4 GiB at most. */
export const WASM_HEAP_BYTES = 4 * 2 ** 30;

export interface StepShape {
  /** Images per forward pass. */
  images: number;
  /** The padded input size `[H, W]`. */
  size: [number, number];
  /** RoIs sampled per image (default: the RoI head's batchSizePerImage). */
  roisPerImage?: number;
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
  // RoIAlign and the box head: per sampled RoI, the pooled cells' taps and two fc layers
  const roiCfg = cfg.roiHead;
  const finest = levelStrides[Math.min(...roiCfg.featmapLevels)];
  const roi = (shape.roisPerImage ?? roiCfg.batchSizePerImage) * (((ROI_FACTOR * 4) / finest) * roiCfg.outputSize ** 2 * channels + 4 * roiCfg.representationSize);
  const params = detector.specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
  const activations = backbone + fpn + rpn;
  const roiPhase = TAPE_FACTOR * activations + roi;
  const backwardPhase = BACKWARD_FACTOR * activations;
  const stages: Record<string, number> = {
    // the activations as the peak moment holds them, by stage
    ...Object.fromEntries(Object.entries({ backbone, fpn, rpn }).map(([k, v]) => [k, 4 * images * v * (roiPhase > backwardPhase ? TAPE_FACTOR : BACKWARD_FACTOR)])),
    roi: roiPhase > backwardPhase ? 4 * images * roi : 0,
    // weights, gradients, momentum, and the sum of micro-batch gradients
    parameters: 4 * 4 * params,
    fixed: FIXED_BYTES,
  };
  return { bytes: Object.values(stages).reduce((a, b) => a + b, 0), stages };
}

/** The largest input the transform can produce for a batch: one image minSize x maxSize, more padded to maxSize square (mixed orientations). */
export function worstCaseSize(transform: { minSize: number; maxSize: number; sizeDivisible: number }, images: number): [number, number] {
  const pad = (n: number) => Math.ceil(n / transform.sizeDivisible) * transform.sizeDivisible;
  return [pad(images > 1 ? transform.maxSize : transform.minSize), pad(transform.maxSize)];
}

export const formatBytes = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GB`;
