// Runs a detector over a dataset and evaluates it: model output (labels 1..K, x1y1x2y2 boxes in
// original-image pixels) → COCO results (category ids, [x, y, w, h]) → COCOeval → metrics.

import type { CocoDataset } from '../data/dataset.js';
import { type CocoDetection, type CocoEvalResult, evaluateDetections } from './cocoeval.js';
import { type Metrics, toMetrics } from './metrics.js';

/** One image's detections as the detector returns them. */
export interface ImageDetections {
  /** Flat x1, y1, x2, y2 rows in original-image pixels. */
  boxes: Float32Array;
  scores: Float32Array;
  /** 1..K (dataset label numbering; 0 = background is never returned). */
  labels: Int32Array;
}

/** An RGB image in [0, 1], HWC, at its original size. */
export interface PredictInput {
  height: number;
  width: number;
  data: Float32Array;
}

export type PredictFn = (images: PredictInput[]) => Promise<ImageDetections[]>;

export interface DatasetEvaluation {
  result: CocoEvalResult;
  metrics: Metrics;
  /** The detections in COCO's results format (what pycocotools' loadRes reads). */
  detections: CocoDetection[];
}

/** Converts one image's detections to COCO results with the dataset's category ids. */
export function toCocoDetections(imageId: number, d: ImageDetections, dataset: CocoDataset): CocoDetection[] {
  const out: CocoDetection[] = [];
  for (let i = 0; i < d.scores.length; i++) {
    const [x1, y1, x2, y2] = d.boxes.subarray(i * 4, i * 4 + 4);
    out.push({ image_id: imageId, category_id: dataset.labels.categoryId(d.labels[i]), bbox: [x1, y1, x2 - x1, y2 - y1], score: d.scores[i] });
  }
  return out;
}

/** Predicts every image of `dataset` (in batches) and evaluates against its annotations. */
export async function evaluateDataset(
  dataset: CocoDataset,
  predict: PredictFn,
  opts: { batchSize?: number; onBatch?: (done: number, total: number) => void } = {},
): Promise<DatasetEvaluation> {
  const batchSize = opts.batchSize ?? 1;
  const detections: CocoDetection[] = [];
  for (let start = 0; start < dataset.length; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, dataset.length - start) }, (_, k) => start + k);
    const samples = await Promise.all(indices.map((i) => dataset.readSample(i)));
    const outputs = await predict(samples.map((s) => ({ height: s.height, width: s.width, data: s.image })));
    outputs.forEach((d, k) => detections.push(...toCocoDetections(samples[k].imageId, d, dataset)));
    opts.onBatch?.(start + indices.length, dataset.length);
  }
  const result = evaluateDetections(dataset.coco, detections);
  return { result, metrics: toMetrics(result), detections };
}
