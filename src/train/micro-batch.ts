// The gradients of one training step, from one tape over the whole batch or accumulated over
// micro-batches (runs of a few images) when the whole batch does not fit in memory. The model
// computes each micro-batch's share of the whole batch's losses (normalisers over the whole
// batch), so the summed losses and gradients are the whole batch's.
import * as tf from '@tensorflow/tfjs-core';
import type { TrainableModel } from './types.js';

export interface StepGradients {
  value: tf.Scalar;
  terms: Record<string, tf.Scalar>;
  grads: Record<string, tf.Tensor>;
  /** Buffers for the trainer to assign after the optimiser step (micro-batches assign their own). */
  buffers: Record<string, tf.Tensor>;
}

/** The [start, end) image ranges of a batch of `numImages` split into runs of `microBatch` (the last one may be shorter). */
export function microBatchRanges(numImages: number, microBatch: number): Array<[number, number]> {
  if (!Number.isInteger(microBatch) || microBatch < 1) throw new Error(`micro-batch size ${microBatch} is not a positive integer`);
  const out: Array<[number, number]> = [];
  for (let start = 0; start < numImages; start += microBatch) out.push([start, Math.min(start + microBatch, numImages)]);
  return out;
}

/** Losses and gradients w.r.t. `vars` of a batch, or of images [start, end) of it. */
function tape<B>(model: TrainableModel<B>, batch: B, vars: tf.Variable[], images?: [number, number]): StepGradients {
  let terms: Record<string, tf.Scalar> = {};
  let buffers: Record<string, tf.Tensor> = {};
  const { value, grads } = tf.variableGrads(() => {
    const out = model.computeLoss(batch, images);
    terms = out.terms;
    buffers = out.buffers ?? {};
    for (const t of [...Object.values(terms), ...Object.values(buffers)]) tf.keep(t);
    return out.total;
  }, vars);
  return { value, terms, grads, buffers };
}

/**
 * One step's losses and gradients. With `microBatch` below the batch's size (and a model that can
 * split batches), the images go through in runs of `microBatch`, the gradients are summed, and
 * every run's buffers (BatchNorm running statistics) are assigned as soon as it is done, as
 * PyTorch's forward does when it accumulates gradients.
 */
export async function stepGradients<B>(model: TrainableModel<B>, batch: B, vars: tf.Variable[], microBatch?: number): Promise<StepGradients> {
  const numImages = microBatch === undefined ? undefined : model.batchSize?.(batch);
  if (numImages === undefined || microBatch === undefined || microBatch >= numImages) {
    await model.prepare?.(batch);
    return tape(model, batch, vars);
  }
  await model.prepare?.(batch, microBatch);
  let sum: StepGradients | undefined;
  for (const range of microBatchRanges(numImages, microBatch)) {
    const part = tape(model, batch, vars, range);
    assignBuffers(model.namedVariables(), part.buffers);
    tf.dispose(Object.values(part.buffers));
    sum = sum === undefined ? { ...part, buffers: {} } : addParts(sum, part);
  }
  return sum!;
}

/** a + b term by term; both are disposed. */
function addParts(a: StepGradients, b: StepGradients): StepGradients {
  const add = <T extends tf.Tensor>(x: Record<string, T>, y: Record<string, T>) =>
    Object.fromEntries(Object.keys(x).map((k) => [k, tf.add(x[k], y[k]) as T]));
  const out = { value: tf.add(a.value, b.value) as tf.Scalar, terms: add(a.terms, b.terms), grads: add(a.grads, b.grads), buffers: {} };
  tf.dispose([a.value, b.value, ...Object.values(a.terms), ...Object.values(b.terms), ...Object.values(a.grads), ...Object.values(b.grads)]);
  return out;
}

/** Running statistics of a train-mode step, assigned to their variables (as PyTorch's forward does in place). */
export function assignBuffers(variables: Map<string, tf.Variable>, buffers: Record<string, tf.Tensor>): void {
  for (const [name, value] of Object.entries(buffers)) {
    const v = variables.get(name);
    if (!v) throw new Error(`the model updated a buffer '${name}' it does not list in namedVariables()`);
    v.assign(value);
  }
}
