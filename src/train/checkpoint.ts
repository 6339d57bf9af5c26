// Training checkpoints: one directory per checkpoint (`latest`, `best`), written atomically: the
// model's variables in the TF.js weights format (model.json + shards, with the metadata the caller
// passes, so a checkpoint loads like a `torchport convert` folder), the optimiser's momentum buffers
// the same way in optimizer/, and the loop position (epoch, batch, iteration, RNG state, best
// metric) in state.json.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { writeDirAtomic } from '../io/atomic.js';
import { readTfjsWeights, writeTfjsWeightSources, type ModelJson, type WeightArray, type WeightSource } from '../io/tfjs-weights.js';
import { InputError } from '../errors.js';
import type { Sgd } from './sgd.js';

/** model.json fields besides the manifest (format, generatedBy, convertedBy, userDefinedMetadata). */
export type CheckpointMeta = Omit<ModelJson, 'weightsManifest' | 'modelTopology'>;

const OPTIMIZER_META: CheckpointMeta = { format: 'torchport-optimizer-state', generatedBy: 'torchport', convertedBy: 'torchport finetune' };

async function toArrays(tensors: Map<string, tf.Tensor>): Promise<WeightArray[]> {
  const out: WeightArray[] = [];
  for (const [name, t] of tensors) out.push({ name, shape: t.shape, data: (await t.data()) as Float32Array });
  return out;
}

function readWeightMap(dir: string): Map<string, WeightArray> {
  return new Map(readTfjsWeights(dir).weights.map((w) => [w.name, w]));
}

export interface TrainState {
  /** Epoch (0-based) of the next batch to run. */
  epoch: number;
  /** Index within that epoch of the next batch to run. */
  batch: number;
  /** Global count of completed iterations (the schedule's position). */
  iteration: number;
  rng?: unknown;
  best?: { metric: string; value: number; epoch: number };
}

/** Model weights and optimiser buffers read back to the host, by canonical name. */
export interface HostState {
  model: WeightArray[];
  buffers: WeightArray[];
}

/** Reads the model's variables and the optimiser's buffers back from the backend. */
export async function readHostState(variables: Map<string, tf.Variable>, optimizer: Sgd): Promise<HostState> {
  return { model: await toArrays(variables), buffers: await toArrays(byCanonicalName(variables, optimizer.state())) };
}

/** Tensors read back from the backend one at a time, as the writer reaches each. */
const fromBackend = (tensors: Map<string, tf.Tensor>): WeightSource[] =>
  [...tensors].map(([name, t]) => ({ name, shape: t.shape, values: async () => (await t.data()) as Float32Array }));

/** Values already on the host. */
const fromHost = (arrays: WeightArray[]): WeightSource[] => arrays.map((w) => ({ name: w.name, shape: w.shape, values: () => w.data }));

async function writeCheckpoint(dir: string, model: WeightSource[], buffers: WeightSource[], state: TrainState, meta: CheckpointMeta): Promise<void> {
  await writeDirAtomic(dir, async (tmp) => {
    await writeTfjsWeightSources(tmp, model, meta);
    mkdirSync(join(tmp, 'optimizer'));
    await writeTfjsWeightSources(join(tmp, 'optimizer'), buffers, OPTIMIZER_META);
    writeFileSync(join(tmp, 'state.json'), `${JSON.stringify(state, null, 1)}\n`);
  });
}

/** Saves the model's variables and the optimiser's buffers, holding one tensor's values on the host at a time. */
export async function saveCheckpoint(dir: string, variables: Map<string, tf.Variable>, optimizer: Sgd, state: TrainState, meta: CheckpointMeta): Promise<void> {
  await writeCheckpoint(dir, fromBackend(variables), fromBackend(byCanonicalName(variables, optimizer.state())), state, meta);
}

/** A checkpoint from values already on the host (what a lost GPU device leaves to save). */
export async function saveHostCheckpoint(dir: string, { model, buffers }: HostState, state: TrainState, meta: CheckpointMeta): Promise<void> {
  await writeCheckpoint(dir, fromHost(model), fromHost(buffers), state, meta);
}

/**
 * The optimiser keys its buffers by tf.Variable name, which is unique per process but not stable
 * across runs; checkpoints use the model's canonical names instead.
 */
function byCanonicalName<T>(variables: Map<string, tf.Variable>, byVariableName: Map<string, T>): Map<string, T> {
  const out = new Map<string, T>();
  for (const [canonical, v] of variables) {
    const entry = byVariableName.get(v.name);
    if (entry !== undefined) out.set(canonical, entry);
  }
  if (out.size !== byVariableName.size) throw new Error('the optimiser holds variables the model does not list in namedVariables()');
  return out;
}

/** A checkpoint's model weights as tensors by canonical name (the caller disposes them). */
export function readCheckpointWeights(dir: string): Map<string, tf.Tensor> {
  return new Map(readTfjsWeights(dir).weights.map((w) => [w.name, tf.tensor(w.data, w.shape)]));
}

/** Assigns a checkpoint's model weights to `variables`: every variable must be present with its shape. */
export function loadModelWeights(dir: string, variables: Map<string, tf.Variable>): void {
  const saved = readWeightMap(dir);
  for (const [name, v] of variables) {
    const w = saved.get(name);
    if (!w) throw new InputError(`checkpoint has no weight named ${name}`, join(dir, 'model.json'));
    if (!tf.util.arraysEqual(w.shape, v.shape)) {
      throw new InputError(`weight ${name} has shape [${w.shape}], the model expects [${v.shape}]`, join(dir, 'model.json'));
    }
    tf.tidy(() => v.assign(tf.tensor(w.data, w.shape)));
  }
}

/** The state.json of a checkpoint directory to resume from; a one-line error when there is none. */
export function resumableState(dir: string): string {
  const statePath = join(dir, 'state.json');
  if (!existsSync(statePath)) throw new InputError('no checkpoint to resume from (state.json missing)', dir);
  return statePath;
}

/** Restores model, optimiser and loop state from a checkpoint directory. */
export function loadCheckpoint(dir: string, variables: Map<string, tf.Variable>, optimizer: Sgd): TrainState {
  const statePath = resumableState(dir);
  const state = JSON.parse(readFileSync(statePath, 'utf8')) as TrainState;
  loadModelWeights(dir, variables);
  const buffers = readWeightMap(join(dir, 'optimizer'));
  const byVariableName = new Map<string, tf.Tensor>();
  for (const [canonical, v] of variables) {
    const w = buffers.get(canonical);
    if (w) byVariableName.set(v.name, tf.tensor(w.data, w.shape));
  }
  try {
    optimizer.loadState(byVariableName);
  } finally {
    tf.dispose([...byVariableName.values()]);
  }
  return state;
}
