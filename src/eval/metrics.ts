// What an evaluation reports: pycocotools' 12-line summary for people, and mmdetection's metric
// names for metrics.json (`bbox_mAP`, ..., per class `bbox_<name>_precision` as mmdet 3's
// classwise CocoMetric names it, and `bbox_mAP_copypaste`).

import { writeFileAtomic } from '../io/atomic.js';
import type { CocoEvalResult } from './cocoeval.js';

const LINES: [metric: string, iou: string, area: string, maxDets: 'first' | 'second' | 'last'][] = [
  ['Average Precision  (AP)', '0.50:0.95', 'all', 'last'],
  ['Average Precision  (AP)', '0.50', 'all', 'last'],
  ['Average Precision  (AP)', '0.75', 'all', 'last'],
  ['Average Precision  (AP)', '0.50:0.95', 'small', 'last'],
  ['Average Precision  (AP)', '0.50:0.95', 'medium', 'last'],
  ['Average Precision  (AP)', '0.50:0.95', 'large', 'last'],
  ['Average Recall     (AR)', '0.50:0.95', 'all', 'first'],
  ['Average Recall     (AR)', '0.50:0.95', 'all', 'second'],
  ['Average Recall     (AR)', '0.50:0.95', 'all', 'last'],
  ['Average Recall     (AR)', '0.50:0.95', 'small', 'last'],
  ['Average Recall     (AR)', '0.50:0.95', 'medium', 'last'],
  ['Average Recall     (AR)', '0.50:0.95', 'large', 'last'],
];

/** The summary exactly as pycocotools prints it. */
export function formatSummary(r: CocoEvalResult): string {
  const md = r.params.maxDets;
  const pick = { first: md[0], second: md[1], last: md[md.length - 1] };
  return LINES.map(
    ([metric, iou, area, m], i) =>
      ` ${metric} @[ IoU=${iou.padEnd(9)} | area=${area.padStart(6)} | maxDets=${String(pick[m]).padStart(3)} ] = ${r.stats[i].toFixed(3)}`,
  ).join('\n');
}

export type Metrics = Record<string, number | string | null>;

/** mmdetection's names for the evaluation result; NaN (no ground truth) becomes null. */
export function toMetrics(r: CocoEvalResult): Metrics {
  const [mAP, mAP50, mAP75, s, m, l, ar1, ar10, ar100, arS, arM, arL] = r.stats;
  const metrics: Metrics = {
    bbox_mAP: mAP,
    bbox_mAP_50: mAP50,
    bbox_mAP_75: mAP75,
    bbox_mAP_s: s,
    bbox_mAP_m: m,
    bbox_mAP_l: l,
    bbox_AR_1: ar1,
    bbox_AR_10: ar10,
    bbox_AR_100: ar100,
    bbox_AR_s: arS,
    bbox_AR_m: arM,
    bbox_AR_l: arL,
    bbox_mAP_copypaste: [mAP, mAP50, mAP75, s, m, l].map((v) => v.toFixed(3)).join(' '),
  };
  for (const c of r.perCategoryAP) metrics[`bbox_${c.name}_precision`] = Number.isNaN(c.ap) ? null : c.ap;
  return metrics;
}

/** Writes `metrics.json` (atomically), with where and when it was evaluated. */
export function writeMetrics(path: string, metrics: Metrics, extra: Record<string, unknown> = {}): void {
  writeFileAtomic(path, `${JSON.stringify({ ...extra, ...metrics }, null, 2)}\n`);
}
