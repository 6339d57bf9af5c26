// The reduced torchvision detectors of fixtures/detection-losses and fixtures/detection-train
// (written by fixtures/gen_detection_losses.py and gen_detection_train.py): the checkpoint through
// the mapping engine, rebuilt with the fixtures' deterministic sampling quotas, and the batch.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { decodeNpy } from '../../../src/checkpoint/npy.js';
import type { WeightMap } from '../../../src/models/layers/weights.js';
import { createFasterRCNN, type FasterRCNN } from '../../../src/models/faster-rcnn/faster-rcnn.js';
import { loadDetectorCheckpoint } from '../../../src/models/detectors/load.js';
import type { DetectionBatch } from '../../../src/train/faster-rcnn/faster-rcnn-train.js';

const LOSSES = new URL('../../../fixtures/detection-losses/', import.meta.url);

export interface LossFixtureSettings {
  model: { widthMult: number; fpnChannels: number; representationSize: number; numClasses: number };
  training: Record<string, number>;
}

/** detection-losses' expected.json: the model and sampling settings both fixtures share. */
export const SETTINGS = JSON.parse(readFileSync(new URL('expected.json', LOSSES), 'utf8')) as LossFixtureSettings;

export function fixtureNpy(dir: URL, name: string): { shape: number[]; data: Float32Array | Int32Array } {
  const t = decodeNpy(readFileSync(new URL(name, dir)));
  return { shape: t.shape, data: t.data as Float32Array | Int32Array };
}

/**
 * A fixture checkpoint through the mapping engine (auto-detected mapping `torchvision-fasterrcnn`,
 * options inferred from the shapes), rebuilt with the fixtures' deterministic sampling quotas.
 */
export function loadSamplingFixture(pth: URL): { detector: FasterRCNN; weights: WeightMap } {
  const loaded = loadDetectorCheckpoint(pth.pathname, { model: 'fasterrcnn_mobilenet_v3_large_320_fpn' });
  assert.deepEqual(loaded.initialised, [], 'every detector parameter is loaded from the fixture');
  const m = SETTINGS.model;
  assert.deepEqual(
    [loaded.options.backbone?.widthMult, loaded.options.fpnChannels, loaded.options.representationSize, loaded.options.numClasses],
    [m.widthMult, m.fpnChannels, m.representationSize, m.numClasses],
  );
  const t = SETTINGS.training;
  const config = structuredClone(loaded.model.config);
  // the fixture's deterministic sampling: quotas larger than every candidate set
  config.rpn.batchSizePerImage = t.rpnBatchSizePerImage;
  config.rpn.positiveFraction = t.rpnPositiveFraction;
  config.roiHead.batchSizePerImage = t.boxBatchSizePerImage;
  config.roiHead.positiveFraction = t.boxPositiveFraction;
  // everything else must already be torchvision's 320 settings
  assert.equal(config.rpn.fgIouThresh, t.rpnFgIouThresh);
  assert.equal(config.rpn.bgIouThresh, t.rpnBgIouThresh);
  assert.equal(config.rpn.preNmsTopN.train, t.rpnPreNmsTopNTrain);
  assert.equal(config.rpn.postNmsTopN.train, t.rpnPostNmsTopNTrain);
  assert.equal(config.rpn.nmsThresh, t.rpnNmsThresh);
  assert.equal(config.rpn.scoreThresh, t.rpnScoreThresh);
  assert.equal(config.rpn.minSize, t.rpnMinSize);
  assert.equal(config.roiHead.fgIouThresh, t.boxFgIouThresh);
  assert.equal(config.roiHead.bgIouThresh, t.boxBgIouThresh);
  assert.deepEqual(config.roiHead.bboxRegWeights, t.bboxRegWeights);
  return { detector: createFasterRCNN(config), weights: loaded.weights };
}

/** The fixture's batch: images.npy, boxes_{i}.npy, labels_{i}.npy. */
export function loadFixtureBatch(dir: URL, imageSizes: Array<[number, number]>): DetectionBatch {
  const images = fixtureNpy(dir, 'images.npy');
  return {
    images: tf.tensor4d(images.data as Float32Array, images.shape as [number, number, number, number]),
    imageSizes,
    targets: imageSizes.map((_, i) => ({
      boxes: fixtureNpy(dir, `boxes_${i}.npy`).data as Float32Array,
      labels: Int32Array.from(fixtureNpy(dir, `labels_${i}.npy`).data),
    })),
  };
}

export function assertRelClose(actual: number, want: number, tol: number, what: string): void {
  const rel = Math.abs(actual - want) / Math.abs(want);
  assert.ok(rel <= tol, `${what}: ${actual} vs torchvision ${want} (relative error ${rel.toExponential(2)} > ${tol})`);
}
