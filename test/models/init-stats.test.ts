// Fresh initialisation against the statistics PyTorch's own initialisation gives
// (fixtures/init-stats, written by fixtures/gen_init_stats.py): per tensor the mean, standard
// deviation and largest magnitude, for torchvision's detector, d-li14's backbone and
// mmdetection's init_cfg defaults. The largest magnitude tells a uniform draw from a normal one
// with the same standard deviation (sqrt(3) vs ~3-4 standard deviations).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import { loadConfig } from '../../src/config/load.js';
import { detectorConfig, validateConfig } from '../../src/config/validate.js';
import { detectForSources } from '../../src/models/map-checkpoint.js';
import { createMobileNetV3 } from '../../src/models/backbones/mobilenetv3/index.js';
import { createFasterRCNN } from '../../src/models/faster-rcnn/faster-rcnn.js';
import { torchvisionDetectorConfig } from '../../src/models/detectors/torchvision.js';
import type { WeightMap } from '../../src/models/layers/weights.js';

await selectBackend('wasm');

interface Stats {
  shape: number[];
  mean: number;
  std: number;
  min: number;
  max: number;
}

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../../fixtures/init-stats/${name}`, import.meta.url), 'utf8')) as Record<string, Stats>;

function statsOf(values: Float32Array): Stats {
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    sum += v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const mean = sum / values.length;
  let sq = 0;
  for (const v of values) sq += (v - mean) ** 2;
  return { shape: [values.length], mean, std: values.length > 1 ? Math.sqrt(sq / (values.length - 1)) : 0, min, max };
}

/** Our tensor drawn as PyTorch's: same constant, or same mean, std and largest magnitude within sampling error. */
function assertSameDistribution(name: string, ours: Float32Array, want: Stats): void {
  const n = want.shape.reduce((a, b) => a * b, 1);
  assert.equal(ours.length, n, `${name}: size`);
  const got = statsOf(ours);
  if (want.std === 0) {
    assert.ok(got.min === want.min && got.max === want.max, `${name}: constant ${want.min} in PyTorch, ours spans [${got.min}, ${got.max}]`);
    return;
  }
  const se = 6 / Math.sqrt(n);
  assert.ok(Math.abs(got.mean - want.mean) <= want.std * se * 2, `${name}: mean ${got.mean} vs PyTorch ${want.mean} (std ${want.std})`);
  assert.ok(Math.abs(got.std / want.std - 1) <= se + 0.02, `${name}: std ${got.std} vs PyTorch ${want.std}`);
  if (n < 50) return;
  // a uniform draw stays within sqrt(3) standard deviations; a normal one of 50+ values goes past
  const magnitude = (s: Stats) => Math.max(Math.abs(s.min), Math.abs(s.max));
  const uniform = (s: Stats) => magnitude(s) / s.std < 1.8;
  assert.equal(uniform(got), uniform(want), `${name}: ${uniform(want) ? 'uniform' : 'normal'} in PyTorch (largest magnitude ${magnitude(want)}, std ${want.std}), ours: largest ${magnitude(got)}, std ${got.std}`);
  if (uniform(want)) assert.ok(Math.abs(magnitude(got) / magnitude(want) - 1) <= (n >= 1000 ? 0.02 : 0.1), `${name}: bound ${magnitude(got)} vs PyTorch ${magnitude(want)}`);
}

/** PyTorch keys → our parameter names, through the mapping rules the converter uses. */
function torchToOurs(stats: Record<string, Stats>, model: string, mapping?: string): Map<string, string> {
  const sources = Object.entries(stats).map(([key, s]) => ({ key, shape: s.shape, dtype: 'float32' as const }));
  const { plan } = detectForSources(sources, { model, mapping }).best;
  assert.deepEqual(plan.missing, [], 'every parameter has a PyTorch counterpart');
  return new Map(plan.matched.map((m) => [m.source, m.target]));
}

function check(weights: WeightMap, stats: Record<string, Stats>, names: Map<string, string>): void {
  assert.equal(names.size, Object.keys(weights).length);
  for (const [source, target] of names) assertSameDistribution(`${target} (${source})`, weights[target].dataSync() as Float32Array, stats[source]);
  tf.dispose(Object.values(weights));
}

test("torchvision's fasterrcnn_mobilenet_v3_large_320_fpn from scratch: every tensor drawn as torchvision draws it", () => {
  const stats = fixture('torchvision-detector.json');
  const model = 'fasterrcnn_mobilenet_v3_large_320_fpn';
  const detector = createFasterRCNN(torchvisionDetectorConfig(model, { numClasses: 4 }));
  check(detector.initWeights(0), stats, torchToOurs(stats, model));
});

test("d-li14's MobileNetV3-Large: its _initialize_weights (nn.Linear SE and classifier N(0, 0.01))", () => {
  const stats = fixture('dli14-large.json');
  const net = createMobileNetV3({ variant: 'large', family: 'dli14', numClasses: 1000 });
  check(net.initWeights(0), stats, torchToOurs(stats, 'mobilenetv3_large', 'dli14-mobilenetv3'));
});

test("the mmdetection-style config: FPN and heads drawn as mmdetection's init_cfg defaults", async () => {
  const stats = fixture('mmdet-heads.json');
  const loaded = await loadConfig(new URL('../../configs/faster-rcnn_mobilenetv3-large-dli14-fpn_1x_coco.js', import.meta.url).pathname);
  const config = detectorConfig(validateConfig(loaded.config, loaded.file), 4);
  assert.equal(config.initScheme, 'mmdet');
  const weights = createFasterRCNN(config).initWeights(0);
  const own = Object.keys(weights).filter((n) => !n.startsWith('backbone.'));
  assert.deepEqual(own.sort(), Object.keys(stats).sort());
  for (const name of own) assertSameDistribution(name, weights[name].dataSync() as Float32Array, stats[name]);
  tf.dispose(Object.values(weights));
});
