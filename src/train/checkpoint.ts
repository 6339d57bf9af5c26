// Training checkpoints: one directory per checkpoint (`latest`, `best`), written atomically, with
// the model's variables and the optimiser's momentum buffers in the TF.js weights format and the
// loop position (epoch, batch, iteration, RNG state, best metric) in state.json.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { writeDirAtomic } from '../io/atomic.js';
import { InputError } from '../errors.js';
import type { Sgd } from './sgd.js';
import { readWeights, writeWeights } from './weights_file.js';

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

export async function saveCheckpoint(dir: string, variables: Map<string, tf.Variable>, optimizer: Sgd, state: TrainState): Promise<void> {
  await writeDirAtomic(dir, async (tmp) => {
    await writeWeights(tmp, 'model', variables, writeFileSync);
    await writeWeights(tmp, 'optimizer', optimizer.state(), writeFileSync);
    writeFileSync(join(tmp, 'state.json'), `${JSON.stringify(state, null, 1)}\n`);
  });
}

/** Assigns a checkpoint's model weights to `variables`: every variable must be present with its shape. */
export function loadModelWeights(dir: string, variables: Map<string, tf.Variable>): void {
  const saved = readWeights(dir, 'model');
  try {
    for (const [name, v] of variables) {
      const t = saved.get(name);
      if (!t) throw new InputError(`checkpoint has no weight named ${name}`, join(dir, 'model.json'));
      if (!tf.util.arraysEqual(t.shape, v.shape)) {
        throw new InputError(`weight ${name} has shape [${t.shape}], the model expects [${v.shape}]`, join(dir, 'model.json'));
      }
      v.assign(t);
    }
  } finally {
    tf.dispose([...saved.values()]);
  }
}

/** Restores model, optimiser and loop state from a checkpoint directory. */
export function loadCheckpoint(dir: string, variables: Map<string, tf.Variable>, optimizer: Sgd): TrainState {
  const statePath = join(dir, 'state.json');
  if (!existsSync(statePath)) throw new InputError('no checkpoint to resume from (state.json missing)', dir);
  const state = JSON.parse(readFileSync(statePath, 'utf8')) as TrainState;
  loadModelWeights(dir, variables);
  const buffers = readWeights(dir, 'optimizer');
  try {
    optimizer.loadState(buffers);
  } finally {
    tf.dispose([...buffers.values()]);
  }
  return state;
}
