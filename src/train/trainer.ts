// The training loop: for each batch, losses and gradients on a tape, optional clipping, one SGD
// step at the scheduled learning rate; progress, a JSON-lines log, evaluation every N epochs and
// atomic checkpoints (`latest` every epoch and on Ctrl-C, `best` by a metric) that `resume`
// continues exactly: same weights, momentum, learning-rate step, data order and RNG state.
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ensureGradients } from '../backend/gradients.js';
import { clipByGlobalNorm } from './clip.js';
import { InputError } from '../errors.js';
import { loadCheckpoint, readHostState, saveCheckpoint, saveHostCheckpoint, type CheckpointMeta, type HostState, type TrainState } from './checkpoint.js';
import { JsonLog, loopPosition, savedPosition } from './log.js';
import { defaultProgress, type IterationInfo, type Progress } from './progress.js';
import type { Sgd } from './sgd.js';
import { assignBuffers, stepGradients } from './micro-batch.js';
import type { BatchSource, TrainableModel } from './types.js';

export interface TrainerOptions<B> {
  model: TrainableModel<B>;
  data: BatchSource<B>;
  /** Holds exactly the variables that train (frozen stages left out). */
  optimizer: Sgd;
  /** The learning rate of each global iteration (0-based), e.g. config's buildLrSchedule. */
  lrAt: (iteration: number) => number;
  maxEpochs: number;
  /**
   * Iteration-based loop (mmengine's IterBasedTrainLoop): stop after this many iterations instead of
   * `maxEpochs`; `evalInterval` and `checkpointInterval` then count iterations.
   */
  maxIters?: number;
  workDir: string;
  /** model.json metadata of checkpoints (e.g. what loads them back as a detector). */
  checkpointMeta?: CheckpointMeta;
  gradClip?: { maxNorm: number };
  /**
   * Images per forward pass: a batch with more goes through in runs of this many, with the
   * gradients summed (the model must implement batchSize; see micro-batch.ts). Default: the whole batch.
   */
  microBatch?: number;
  /** Runs after every `evalInterval` epochs and after the last; returns metrics such as bbox_mAP. */
  evaluate?: (epoch: number) => Promise<Record<string, number>>;
  evalInterval?: number;
  /** `latest` is saved after every this many epochs and after the last (default 1); Ctrl-C always saves. */
  checkpointInterval?: number;
  /** The metric that picks the `best` checkpoint (higher is better). */
  bestMetric?: string;
  progress?: Progress;
  /** Continue from `<workDir>/latest`. */
  resume?: boolean;
  /** Ctrl-C saves `latest` and stops after the current iteration (default true). */
  handleSigint?: boolean;
  /** Called after every iteration (tests use it to watch the tensor count or to stop). */
  afterIteration?: (info: IterationInfo) => void;
  /**
   * Keep a host copy of the weights and optimiser buffers after every iteration, and tell when a
   * failed step means the device (and every tensor on it) is gone: `latest` is then saved from
   * the copy, like Ctrl-C, and the returned message replaces the error (a GPU backend's device loss).
   */
  deviceLoss?: { lost(err: unknown): string | undefined };
}

export interface TrainResult {
  status: 'finished' | 'interrupted';
  state: TrainState;
  /** The last evaluation's metrics. */
  metrics?: Record<string, number>;
}

const DEFAULT_META: CheckpointMeta = { format: 'torchport-checkpoint', generatedBy: 'torchport', convertedBy: 'torchport finetune' };

export class NonFiniteLossError extends Error {}

interface StepValues {
  loss: number;
  terms: Record<string, number>;
  gradNorm?: number;
}

export class Trainer<B> {
  private stopRequested = false;
  readonly latestDir: string;
  readonly bestDir: string;
  readonly log: JsonLog;

  constructor(private readonly o: TrainerOptions<B>) {
    this.latestDir = join(o.workDir, 'latest');
    this.bestDir = join(o.workDir, 'best');
    this.log = new JsonLog(join(o.workDir, 'train.log.jsonl'));
  }

  /** Stops after the current iteration, saving `latest` (what Ctrl-C does). */
  requestStop(): void {
    this.stopRequested = true;
  }

  async fit(): Promise<TrainResult> {
    const { model, data, optimizer, maxEpochs } = this.o;
    await ensureGradients();
    const progress = this.o.progress ?? defaultProgress();
    const variables = model.namedVariables();
    let state: TrainState = { epoch: 0, batch: 0, iteration: 0 };
    if (this.o.resume) {
      const saved = loadCheckpoint(this.latestDir, variables, optimizer);
      state = loopPosition(saved, data.batchesPerEpoch);
      if (state.rng !== undefined) model.rng?.setState(state.rng);
      progress.message(`resumed from ${this.latestDir}: epoch ${saved.epoch}, batch ${saved.batch}, iteration ${saved.iteration}`);
      this.log.write({ mode: 'event', event: 'resume', ...saved });
    }
    const onSigint = () => {
      if (this.stopRequested) process.exit(130);
      progress.message('interrupted: saving a checkpoint after this iteration (Ctrl-C again to quit at once)');
      this.requestStop();
    };
    if (this.o.handleSigint ?? true) process.on('SIGINT', onSigint);
    const { maxIters } = this.o;
    const totalIterations = maxIters ?? maxEpochs * data.batchesPerEpoch;
    const unfinished = () => (maxIters === undefined ? state.epoch < maxEpochs : state.iteration < maxIters);
    const started = performance.now();
    const startIteration = state.iteration;
    // state.json numbers epochs as the log does (savedPosition)
    const saved = () => savedPosition({ ...state, rng: model.rng?.getState() }, data.batchesPerEpoch);
    const save = async (dir: string) => saveCheckpoint(dir, variables, optimizer, saved(), this.o.checkpointMeta ?? DEFAULT_META);
    const stop = async (): Promise<TrainResult> => {
      await save(this.latestDir);
      progress.message(`checkpoint saved to ${this.latestDir}; continue with --resume`);
      this.log.write({ mode: 'event', event: 'interrupted', ...saved() });
      return { status: 'interrupted', state, metrics };
    };
    // the last completed iteration's values on the host, for a device that is lost mid-run
    let host: { values: HostState; state: TrainState } | undefined;
    let metrics: Record<string, number> | undefined;
    try {
      while (unfinished()) {
        for await (const batch of data.batches(state.epoch, state.batch)) {
          const lr = this.o.lrAt(state.iteration);
          let values: StepValues;
          try {
            values = await this.step(batch, lr, `epoch ${state.epoch + 1}, batch ${state.batch + 1} (iteration ${state.iteration + 1})`);
          } catch (err) {
            throw await this.afterDeviceLoss(err, host);
          } finally {
            data.dispose(batch);
          }
          state.batch++;
          state.iteration++;
          if (this.o.deviceLoss) host = { values: await readHostState(variables, optimizer), state: saved() };
          const done = state.iteration - startIteration;
          const rate = done / ((performance.now() - started) / 1000);
          const info: IterationInfo = {
            epoch: state.epoch, maxEpochs, batch: state.batch, batchesPerEpoch: data.batchesPerEpoch,
            iteration: state.iteration, totalIterations, lr, ...values,
            itersPerSecond: rate, etaSeconds: (totalIterations - state.iteration) / rate,
          };
          this.log.write({ mode: 'train', epoch: state.epoch + 1, iter: state.batch, iteration: state.iteration, lr, loss: values.loss, ...values.terms, grad_norm: values.gradNorm });
          progress.iteration(info);
          this.o.afterIteration?.(info);
          // Let signal handlers run: with prefetched batches the loop never waits on I/O, and a
          // Ctrl-C would otherwise only be seen at the end of the epoch.
          await new Promise((resolve) => setImmediate(resolve));
          if (maxIters !== undefined) metrics = (await this.afterInterval(state.iteration, maxIters, state.epoch, state, save, progress)) ?? metrics;
          if (state.iteration === maxIters) break;
          // at an epoch's last batch, stop after the epoch's own checkpoint and evaluation
          if (this.stopRequested && state.batch < data.batchesPerEpoch) return await stop();
        }
        if (maxIters !== undefined && state.batch < data.batchesPerEpoch) break; // stopped mid-epoch
        const epoch = state.epoch;
        state = { ...state, epoch: epoch + 1, batch: 0 };
        if (maxIters === undefined) metrics = (await this.afterInterval(epoch + 1, maxEpochs, epoch, state, save, progress)) ?? metrics;
        if (this.stopRequested && unfinished()) return await stop();
      }
      return { status: 'finished', state, metrics };
    } finally {
      progress.close();
      process.off('SIGINT', onSigint);
    }
  }

  /**
   * After `done` epochs (or iterations, in an iteration-based run) of `total`: `latest` every
   * checkpointInterval and at the end, evaluation every evalInterval and at the end.
   */
  private async afterInterval(done: number, total: number, epoch: number, state: TrainState, save: (dir: string) => Promise<void>, progress: Progress): Promise<Record<string, number> | undefined> {
    if (done % (this.o.checkpointInterval ?? 1) === 0 || done === total) await save(this.latestDir);
    if (!this.o.evaluate || (done % (this.o.evalInterval ?? 1) !== 0 && done !== total)) return undefined;
    const metrics = await this.o.evaluate(epoch);
    this.log.write({ mode: 'val', epoch: epoch + 1, iteration: state.iteration, ...metrics });
    const unit = this.o.maxIters === undefined ? `epoch ${epoch + 1}` : `iteration ${state.iteration}`;
    progress.message(`${unit}: ${Object.entries(metrics).filter(([, v]) => typeof v === 'number').map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ')}`);
    await this.updateBest(metrics, epoch, state, save, progress);
    return metrics;
  }

  /** A step failed: when the device is gone, `latest` from the host copy, and the error to throw. */
  private async afterDeviceLoss(err: unknown, host: { values: HostState; state: TrainState } | undefined): Promise<unknown> {
    const lost = this.o.deviceLoss?.lost(err);
    if (lost === undefined) return err;
    if (!host) return new InputError(`${lost}; no iteration had finished, so nothing was saved`);
    await saveHostCheckpoint(this.latestDir, host.values, host.state, this.o.checkpointMeta ?? DEFAULT_META);
    this.log.write({ mode: 'event', event: 'device-lost', ...host.state });
    return new InputError(`${lost}; saved ${this.latestDir} at iteration ${host.state.iteration}: continue with --resume (on any backend, e.g. --backend wasm)`);
  }

  private async updateBest(metrics: Record<string, number>, epoch: number, state: TrainState, save: (dir: string) => Promise<void>, progress: Progress): Promise<void> {
    const metric = this.o.bestMetric ?? 'bbox_mAP';
    const value = metrics[metric];
    if (typeof value !== 'number' || !Number.isFinite(value)) return;
    if (state.best && state.best.value >= value) return;
    state.best = { metric, value, epoch: epoch + 1 };
    await save(this.latestDir); // latest records the new best too, so a resumed run compares against it
    await save(this.bestDir);
    progress.message(`new best ${metric} ${value.toFixed(4)}: saved ${this.bestDir}`);
  }

  /** One iteration; the tensor count after it equals the count before it. */
  private async step(batch: B, lr: number, where: string): Promise<StepValues> {
    const { model, optimizer, gradClip } = this.o;
    const { value, terms, grads, buffers } = await stepGradients(model, batch, optimizer.variables, this.o.microBatch);
    const names = Object.keys(terms);
    const owned: tf.Tensor[] = [value, ...Object.values(terms), ...Object.values(buffers), ...Object.values(grads)];
    try {
      const packed = tf.tidy(() => tf.stack([value, ...names.map((n) => terms[n])]));
      owned.push(packed);
      const numbers = Array.from(await packed.data());
      const values: StepValues = { loss: numbers[0], terms: Object.fromEntries(names.map((n, i) => [n, numbers[i + 1]])) };
      if (!numbers.every(Number.isFinite)) {
        throw new NonFiniteLossError(
          `loss is not finite at ${where} (loss ${values.loss}` +
            `${names.map((n) => `, ${n} ${values.terms[n]}`).join('')}); stopped without saving, ` +
            `the last good checkpoint is ${this.latestDir}. Try a lower lr, a longer warm-up or gradient clipping.`,
        );
      }
      let step = grads as Record<string, tf.Tensor>;
      if (gradClip) {
        const clipped = clipByGlobalNorm(step, gradClip.maxNorm);
        owned.push(clipped.norm, ...Object.values(clipped.grads));
        values.gradNorm = (await clipped.norm.data())[0];
        step = clipped.grads;
      }
      optimizer.lr = lr;
      optimizer.step(step);
      assignBuffers(model.namedVariables(), buffers);
      return values;
    } finally {
      tf.dispose(owned);
    }
  }
}
