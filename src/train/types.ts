// The contracts between the trainer and what it trains: a model adapter and a batch source.
import type * as tf from '@tensorflow/tfjs-core';

export interface LossOutput {
  /** The scalar that is differentiated. */
  total: tf.Scalar;
  /** Named parts for logging (mmdet names: loss_cls, loss_bbox, loss_rpn_cls, ...). */
  terms: Record<string, tf.Scalar>;
  /**
   * Buffers the step leaves behind, by canonical variable name (BatchNorm running statistics in
   * train mode): the trainer assigns them after the optimiser step and disposes them.
   */
  buffers?: Record<string, tf.Tensor>;
}

/** Serializable random-number state, so a resumed run samples exactly what the first run would have. */
export interface RngHolder {
  getState(): unknown;
  setState(state: unknown): void;
}

export interface TrainableModel<B> {
  /**
   * Every variable a checkpoint holds, by canonical name: trainable ones and buffers (BatchNorm
   * running statistics). Which ones train is decided by the variables given to the optimiser.
   */
  namedVariables(): Map<string, tf.Variable>;
  /**
   * Forward pass and losses of one batch, in training mode. Called inside a gradient tape.
   * With `images` [start, end): only those images, with their share of the whole batch's losses
   * (after prepare(batch, microBatch)), so the shares and their gradients add up to the batch's.
   */
  computeLoss(batch: B, images?: [number, number]): LossOutput;
  /**
   * Optional asynchronous work on a batch before its tape (values computeLoss needs but cannot
   * read synchronously on backends without synchronous reads, such as webgpu in Node). With
   * `microBatch`, what splitting the batch into runs of that many images needs.
   */
  prepare?(batch: B, microBatch?: number): Promise<void>;
  /** The number of images in a batch, for models that can split a batch into micro-batches. */
  batchSize?(batch: B): number;
  /** Optional random state used by computeLoss (e.g. RoI samplers). */
  rng?: RngHolder;
}

export interface BatchSource<B> {
  /** Batches in one epoch. */
  readonly batchesPerEpoch: number;
  /**
   * The batches of `epoch` (0-based) from batch index `start` on. The order must depend only on
   * the epoch (e.g. a shuffle seeded by seed + epoch), so a resumed run sees the same data.
   */
  batches(epoch: number, start: number): AsyncIterable<B>;
  /** Frees a batch's tensors once the trainer is done with it. */
  dispose(batch: B): void;
}
