// The trainer's view of a Faster R-CNN (src/train/types.ts TrainableModel): variables by canonical
// name, and the four torchvision losses of a batch with their sum as the differentiated total.
// The model runs in train mode: BatchNorm layers outside the frozen stages use batch statistics
// unless the backbone has normEval (then, as torchvision's FrozenBatchNorm2d, running statistics),
// and their updated running statistics go back to the trainer as buffers.
import * as tf from '@tensorflow/tfjs-core';
import type { DataBatch } from '../../data/loader.js';
import type { TrainableModel } from '../types.js';
import type { WeightMap } from '../../models/layers/weights.js';
import type { FasterRCNN } from '../../models/faster-rcnn/faster-rcnn.js';
import { computeLosses, computeMicroBatchLosses, planSampling, precomputeProposals, type DetectionBatch, type DetectionLosses, type SamplingPlan } from './faster-rcnn-train.js';
import { SeededRandom } from './random.js';

/** One tf.Variable per declared parameter, trainable as its spec says (frozen stages and BN statistics are not). */
export function detectorVariables(detector: FasterRCNN, weights: WeightMap): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>();
  for (const spec of detector.specs) {
    const t = weights[spec.name];
    if (!t) throw new Error(`detector weights: '${spec.name}' is missing`);
    out.set(spec.name, tf.variable(t, spec.trainable, spec.name));
  }
  return out;
}

/**
 * A collated data batch as computeLosses takes it: the images become one NHWC tensor (the caller
 * disposes `images` when the step is done); crowd regions are not targets (as in torchvision).
 */
export function toDetectionBatch(data: DataBatch): DetectionBatch {
  return {
    images: tf.tensor4d(data.images, data.shape),
    imageSizes: data.imageSizes,
    targets: data.boxes.map((boxes, i) => ({ boxes, labels: data.labels[i] })),
  };
}

/** webgpu in Node cannot read a tensor synchronously (dataSync throws); the other backends can. */
function hasSyncReads(): boolean {
  return tf.getBackend() !== 'webgpu';
}

export function detectorTrainable(
  detector: FasterRCNN,
  variables: Map<string, tf.Variable>,
  opts: { seed?: number } = {},
): TrainableModel<DetectionBatch> {
  const random = new SeededRandom(opts.seed ?? 0);
  const weights: WeightMap = Object.fromEntries(variables);
  // proposals read before the tape, where the backend has no synchronous reads
  const prepared = new WeakMap<DetectionBatch, Float32Array[]>();
  // sampling plans of batches split into micro-batches
  const plans = new WeakMap<DetectionBatch, SamplingPlan>();
  const losses = (batch: DetectionBatch, images?: [number, number]): DetectionLosses => {
    if (!images) return computeLosses(detector, weights, batch, { random, batchNormTraining: true, proposals: prepared.get(batch) });
    const plan = plans.get(batch);
    if (!plan) throw new Error('a micro-batch of a batch that prepare() did not plan');
    return computeMicroBatchLosses(detector, weights, batch, plan, images, { batchNormTraining: true });
  };
  return {
    namedVariables: () => variables,
    rng: random,
    batchSize: (batch) => batch.images.shape[0],
    async prepare(batch, microBatch) {
      if (microBatch !== undefined && microBatch < batch.images.shape[0]) {
        plans.set(batch, await planSampling(detector, weights, batch, microBatch, { training: true, random }));
      } else if (!hasSyncReads()) {
        prepared.set(batch, await precomputeProposals(detector, weights, batch, true));
      }
    },
    computeLoss(batch, images) {
      const l = losses(batch, images);
      return {
        buffers: l.bnUpdates,
        total: tf.addN([l.lossObjectness, l.lossRpnBoxReg, l.lossClassifier, l.lossBoxReg]) as tf.Scalar,
        terms: {
          loss_objectness: l.lossObjectness,
          loss_rpn_box_reg: l.lossRpnBoxReg,
          loss_classifier: l.lossClassifier,
          loss_box_reg: l.lossBoxReg,
        },
      };
    },
  };
}
