// The four Faster R-CNN losses with torchvision's definitions (rpn.py `compute_loss`,
// roi_heads.py `fastrcnn_loss`). Which elements count is decided outside the tape (plain arrays);
// the tensors are only multiplied by constant masks, so no gather and no gradient for indices.
import * as tf from '@tensorflow/tfjs-core';

/** torchvision's smooth-L1 beta for both box losses. */
export const BOX_LOSS_BETA = 1 / 9;

/** Element-wise smooth L1: 0.5 d²/beta where |d| < beta, else |d| - 0.5 beta (written with min, no branch). */
export function smoothL1(diff: tf.Tensor, beta = BOX_LOSS_BETA): tf.Tensor {
  return tf.tidy(() => {
    const n = tf.abs(diff);
    const c = tf.minimum(n, beta);
    return tf.add(tf.mul(tf.square(c), 0.5 / beta), tf.sub(n, c));
  });
}

/** Element-wise binary cross-entropy with logits, the stable form max(x,0) - x·y + log(1 + e^-|x|). */
export function bceWithLogits(logits: tf.Tensor, targets: tf.Tensor): tf.Tensor {
  return tf.tidy(() =>
    tf.add(tf.sub(tf.relu(logits), tf.mul(logits, targets)), tf.log1p(tf.exp(tf.neg(tf.abs(logits))))),
  );
}

export interface RpnLossInputs {
  /** Objectness logits of every anchor of every image, `[total]` (image-major, the anchors' order). */
  objectness: tf.Tensor1D;
  /** Box deltas, `[total, 4]`, same order. */
  deltas: tf.Tensor2D;
  /** Per anchor: 1 sampled positive, 0 sampled negative, -1 not sampled. */
  sampledLabels: Int8Array;
  /** Regression targets `[total*4]`; read only where sampledLabels is 1. */
  regressionTargets: Float32Array;
}

/**
 * objectness: mean BCE over the sampled anchors; box: smooth L1 summed over the sampled positives,
 * divided by the number of sampled anchors (torchvision's normalisation, not by the positives).
 * `normalizer` replaces that count with the count over a whole batch these anchors are part of.
 */
export function rpnLosses(inp: RpnLossInputs, normalizer?: number): { lossObjectness: tf.Scalar; lossRpnBoxReg: tf.Scalar } {
  const total = inp.sampledLabels.length;
  const sampledMask = new Float32Array(total);
  const labels = new Float32Array(total);
  const positiveMask = new Float32Array(total * 4);
  const targets = new Float32Array(total * 4);
  let numSampled = 0;
  for (let i = 0; i < total; i++) {
    const l = inp.sampledLabels[i];
    if (l < 0) continue;
    numSampled++;
    sampledMask[i] = 1;
    if (l > 0) {
      labels[i] = 1;
      for (let k = 0; k < 4; k++) {
        positiveMask[4 * i + k] = 1;
        targets[4 * i + k] = inp.regressionTargets[4 * i + k];
      }
    }
  }
  const divisor = normalizer ?? numSampled;
  if (divisor === 0) throw new Error('RPN loss: no anchor was sampled');
  return tf.tidy(() => {
    const bce = bceWithLogits(inp.objectness, tf.tensor1d(labels));
    const lossObjectness = tf.div(tf.sum(tf.mul(bce, tf.tensor1d(sampledMask))), divisor) as tf.Scalar;
    const l1 = smoothL1(tf.sub(inp.deltas, tf.tensor2d(targets, [total, 4])));
    const lossRpnBoxReg = tf.div(tf.sum(tf.mul(l1, tf.tensor2d(positiveMask, [total, 4]))), divisor) as tf.Scalar;
    return { lossObjectness, lossRpnBoxReg };
  });
}

export interface RoILossInputs {
  /** `[S, numClasses]` class logits of the sampled RoIs of every image. */
  classLogits: tf.Tensor2D;
  /** `[S, numClasses*4]` class-specific box deltas. */
  boxRegression: tf.Tensor2D;
  /** `[S]` class per RoI (0 background). */
  labels: Int32Array;
  /** `[S*4]` regression targets; read only where the label is > 0. */
  regressionTargets: Float32Array;
}

/**
 * classifier: mean cross-entropy over the sampled RoIs; box: smooth L1 of the deltas of each
 * positive RoI's own class, summed, divided by the number of sampled RoIs (or by `normalizer`, the
 * count over a whole batch these RoIs are part of).
 */
export function roiLosses(inp: RoILossInputs, normalizer?: number): { lossClassifier: tf.Scalar; lossBoxReg: tf.Scalar } {
  const [numRois, numClasses] = inp.classLogits.shape;
  const divisor = normalizer ?? numRois;
  if (divisor === 0) throw new Error('RoI loss: no RoI was sampled');
  if (inp.labels.length !== numRois) throw new Error(`RoI loss: ${inp.labels.length} labels for ${numRois} RoIs`);
  const oneHot = new Float32Array(numRois * numClasses);
  const boxMask = new Float32Array(numRois * numClasses * 4);
  const boxTargets = new Float32Array(numRois * numClasses * 4);
  for (let i = 0; i < numRois; i++) {
    const label = inp.labels[i];
    if (label < 0 || label >= numClasses) throw new Error(`RoI loss: label ${label} outside [0, ${numClasses})`);
    oneHot[i * numClasses + label] = 1;
    if (label === 0) continue;
    const at = (i * numClasses + label) * 4;
    for (let k = 0; k < 4; k++) {
      boxMask[at + k] = 1;
      boxTargets[at + k] = inp.regressionTargets[4 * i + k];
    }
  }
  return tf.tidy(() => {
    const logProb = tf.logSoftmax(inp.classLogits);
    const lossClassifier = tf.div(tf.neg(tf.sum(tf.mul(logProb, tf.tensor2d(oneHot, [numRois, numClasses])))), divisor) as tf.Scalar;
    const l1 = smoothL1(tf.sub(inp.boxRegression, tf.tensor2d(boxTargets, [numRois, numClasses * 4])));
    const lossBoxReg = tf.div(tf.sum(tf.mul(l1, tf.tensor2d(boxMask, [numRois, numClasses * 4]))), divisor) as tf.Scalar;
    return { lossClassifier, lossBoxReg };
  });
}
