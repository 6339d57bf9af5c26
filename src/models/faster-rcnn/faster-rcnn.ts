// Faster R-CNN (backbone → FPN → RPN → RoI head) built from a FasterRCNNConfig. The model is a set
// of pure stage functions of (weights, inputs), so inference (`predict`) and training compose the
// same pieces. Parameter names: `backbone.*` (the backbone's own names), `neck.*`, `rpn.*`,
// `roi_head.*`.
import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../../errors.js';
import { backbones } from '../backbones/registry.js';
import type { Backbone } from '../backbones/types.js';
import { FoldCache } from '../layers/fold-cache.js';
import { initWeights as initFromRule } from '../layers/init.js';
import type { WeightMap } from '../layers/weights.js';
import { necks } from '../necks/registry.js';
import type { Neck } from '../necks/types.js';
import type { ParamSpec } from '../../mapping/params.js';
import { generateAnchors } from './anchors.js';
import { detectorInitRule } from './init.js';
import type { FasterRCNNConfig } from './config.js';
import { boxHead, boxPredictor, postprocessDetections, type Detections } from './roi-head.js';
import { multiScaleRoIAlign } from './roi-align.js';
import { filterProposals, rpnHead, type Proposals, type RPNHeadOutput } from './rpn.js';
import { fasterRCNNLayout, neckInChannels } from './specs.js';
import { boxesToOriginal, transformImages, type RGBImage } from './transform.js';
import { subWeights } from './weights.js';

export interface FeaturesOutput {
  /** FPN outputs, NHWC, finest first (torchvision's '0', '1', ..., 'pool'). */
  features: tf.Tensor4D[];
  /** Train mode: BatchNorm running statistics to assign after the step (backbone names, prefixed). */
  bnUpdates?: WeightMap;
}

export interface FasterRCNN {
  config: FasterRCNNConfig;
  backbone: Backbone;
  neck: Neck;
  /** Every parameter, with its prefix. */
  specs: ParamSpec[];
  /** Fresh weights (seeded), initialised as torchvision initialises each part. */
  initWeights(seed?: number): WeightMap;
  /** Backbone + FPN on a transformed NHWC batch. */
  features(weights: WeightMap, images: tf.Tensor4D, opts?: { training?: boolean }): FeaturesOutput;
  /** RPN head on every FPN level. */
  rpnHead(weights: WeightMap, features: tf.Tensor4D[]): RPNHeadOutput;
  /** Anchors for these FPN outputs of a padded batch of `[h, w]` (the same for every image). */
  anchors(features: tf.Tensor4D[], paddedSize: [number, number]): { anchors: Float32Array; numPerLevel: number[] };
  /** Proposal filtering for one image, from that image's objectness logits and deltas. */
  proposals(
    anchors: Float32Array,
    objectness: Float32Array,
    deltas: Float32Array,
    numAnchorsPerLevel: number[],
    imageSize: [number, number],
    training: boolean,
  ): Proposals;
  /** MultiScaleRoIAlign over the configured levels: `[totalRois, P, P, C]`, differentiable. */
  roiAlign(features: tf.Tensor4D[], boxesPerImage: Float32Array[], imageSizes: Array<[number, number]>): tf.Tensor4D;
  /** TwoMLPHead + FastRCNNPredictor. */
  roiHead(weights: WeightMap, pooled: tf.Tensor4D): { classLogits: tf.Tensor2D; boxDeltas: tf.Tensor2D };
  /** Post-processing for one image, boxes in resized-image pixels. */
  postprocess(classLogits: Float32Array, boxDeltas: Float32Array, proposals: Float32Array, imageSize: [number, number]): Detections;
  /** The whole eval-mode pipeline; boxes in original-image pixels. */
  predict(weights: WeightMap, images: RGBImage[]): Promise<Detections[]>;
  /**
   * Frees the weights inference keeps between calls (the box head's kernels cut in column
   * blocks, one copy; rebuilt on the next inference). Call when done with the model or its weights.
   */
  releaseCache(): void;
}

// Frees a detector's cached weights when the model object itself is garbage-collected.
const finalizer = new FinalizationRegistry<FoldCache>((cache) => cache.clear());

// Backbone options that act only on a classification head, which a detector's backbone lacks.
const CLASSIFIER_ONLY = ['numClasses', 'dropout'];

function buildBackbone(config: FasterRCNNConfig): Backbone {
  const { type, ...options } = config.backbone;
  const headOnly = CLASSIFIER_ONLY.filter((k) => k in options);
  if (headOnly.length > 0) throw new InputError(`backbone ${headOnly.join(', ')}: acts on a classification head, which a detector's backbone does not have`);
  return backbones.get(type)(options);
}

export function createFasterRCNN(config: FasterRCNNConfig): FasterRCNN {
  const backbone = buildBackbone(config);
  const { specs, ownSpecs } = fasterRCNNLayout(config, backbone.specs, backbone.featureInfo);
  const neck = necks.get(config.neck.type)(config.neck, neckInChannels(config, backbone.featureInfo));
  const roiOpts = {
    outputSize: config.roiHead.outputSize,
    samplingRatio: config.roiHead.samplingRatio,
    aligned: config.roiHead.aligned,
    canonicalScale: config.roiHead.canonicalScale,
    canonicalLevel: config.roiHead.canonicalLevel,
  };

  const cache = new FoldCache();

  const model: FasterRCNN = {
    config,
    backbone,
    neck,
    specs,
    initWeights(seed = 0) {
      const out: WeightMap = {};
      for (const [name, t] of Object.entries(backbone.initWeights(seed))) out[`backbone.${name}`] = t;
      const own = initFromRule(ownSpecs, detectorInitRule(config.initScheme ?? 'torchvision', ownSpecs), seed + backbone.specs.length);
      return Object.assign(out, own);
    },
    features(weights, images, opts = {}) {
      const out = backbone.forward(subWeights(weights, 'backbone.'), images, { training: opts.training ?? false });
      const features = neck.forward(subWeights(weights, 'neck.'), out.features);
      if (!out.bnUpdates) return { features };
      const bnUpdates: WeightMap = {};
      for (const [name, t] of Object.entries(out.bnUpdates)) bnUpdates[`backbone.${name}`] = t;
      return { features, bnUpdates };
    },
    rpnHead(weights, features) {
      return rpnHead(subWeights(weights, 'rpn.'), features);
    },
    anchors(features, paddedSize) {
      return generateAnchors(config.rpn.anchors, features.map((x) => [x.shape[1], x.shape[2]] as [number, number]), paddedSize);
    },
    proposals(anchors, objectness, deltas, numAnchorsPerLevel, imageSize, training) {
      return filterProposals(config.rpn, anchors, objectness, deltas, numAnchorsPerLevel, imageSize, training);
    },
    roiAlign(features, boxesPerImage, imageSizes) {
      return multiScaleRoIAlign(config.roiHead.featmapLevels.map((l) => features[l]), boxesPerImage, imageSizes, roiOpts);
    },
    roiHead(weights, pooled) {
      const w = subWeights(weights, 'roi_head.');
      return boxPredictor(w, boxHead(w, pooled, cache));
    },
    postprocess(classLogits, boxDeltas, proposals, imageSize) {
      return postprocessDetections(config.roiHead, classLogits, boxDeltas, proposals, imageSize);
    },
    async predict(weights, images) {
      const batch = transformImages(images, config.transform);
      const input = tf.tensor4d(batch.data, batch.shape);
      const features = tf.tidy(() => model.features(weights, input).features);
      input.dispose();
      const head = tf.tidy(() => model.rpnHead(weights, features) as unknown as tf.TensorContainer) as unknown as RPNHeadOutput;
      const [objectness, deltas] = await Promise.all([head.objectness.data(), head.deltas.data()]);
      head.objectness.dispose();
      head.deltas.dispose();
      const { anchors, numPerLevel } = model.anchors(features, [batch.shape[1], batch.shape[2]]);
      const total = anchors.length / 4;
      const proposals = batch.imageSizes.map((size, b) =>
        model.proposals(
          anchors,
          (objectness as Float32Array).subarray(b * total, (b + 1) * total),
          (deltas as Float32Array).subarray(b * total * 4, (b + 1) * total * 4),
          numPerLevel,
          size,
          false,
        ),
      );
      if (proposals.every((p) => p.boxes.length === 0)) {
        features.forEach((x) => x.dispose());
        return proposals.map(() => ({ boxes: new Float32Array(0), scores: new Float32Array(0), labels: new Int32Array(0) }));
      }
      const pooled = model.roiAlign(features, proposals.map((p) => p.boxes), batch.imageSizes);
      features.forEach((x) => x.dispose());
      const { classLogits, boxDeltas } = tf.tidy(() => model.roiHead(weights, pooled));
      pooled.dispose();
      const [logits, regression] = await Promise.all([classLogits.data(), boxDeltas.data()]);
      classLogits.dispose();
      boxDeltas.dispose();
      const k = config.roiHead.numClasses;
      let start = 0;
      return proposals.map((p, b) => {
        const n = p.boxes.length / 4;
        const det = model.postprocess(
          (logits as Float32Array).subarray(start * k, (start + n) * k),
          (regression as Float32Array).subarray(start * 4 * k, (start + n) * 4 * k),
          p.boxes,
          batch.imageSizes[b],
        );
        start += n;
        boxesToOriginal(det.boxes, batch.imageSizes[b], batch.originalSizes[b]);
        return det;
      });
    },
    releaseCache: () => cache.clear(),
  };
  finalizer.register(model, cache);
  return model;
}
