// The JSON-lines training log in the work dir: one object per line (iterations, evaluations,
// events), appended so a resumed run continues the same file. The folder is made by the first
// record, so a run that fails before it starts leaves no empty work dir.
import { appendFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TrainState } from './checkpoint.js';
import { makeDirs } from '../io/make-dirs.js';

export type LogRecord = { mode: 'train' | 'val' | 'event' } & Record<string, unknown>;

export class JsonLog {
  constructor(readonly path: string) {}

  write(record: LogRecord): void {
    makeDirs(dirname(this.path));
    appendFileSync(this.path, `${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`);
  }
}

/**
 * A loop position (next batch to run, 0-based epoch) as state.json, the events and `resume`
 * number it, like the log's train lines: `epoch` (1-based) of the last finished iteration and
 * `batch`, how many of that epoch's batches are done (all of them once the epoch is over).
 */
export function savedPosition<S extends TrainState>(state: S, batchesPerEpoch: number): S {
  return state.batch === 0 && state.epoch > 0 ? { ...state, batch: batchesPerEpoch } : { ...state, epoch: state.epoch + 1 };
}

/** The loop position a saved one stands for (the inverse of savedPosition). */
export function loopPosition<S extends TrainState>(saved: S, batchesPerEpoch: number): S {
  return saved.batch >= batchesPerEpoch ? { ...saved, batch: 0 } : { ...saved, epoch: saved.epoch - 1 };
}
