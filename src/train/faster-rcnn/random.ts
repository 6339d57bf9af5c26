// The samplers' random source: counter-based (draw k of a seed is mixSeed(seed, k)), so its whole
// state is two integers that a resumed training run restores to sample exactly what the first
// run would have.
import { mixSeed } from '../../data/rng.js';
import type { RngHolder } from '../types.js';

export class SeededRandom implements RngHolder {
  private readonly seed: number;
  private counter = 0;

  constructor(seed: number) {
    this.seed = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return mixSeed(this.seed, this.counter++) / 4294967296;
  }

  /** Integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  getState(): [number, number] {
    return [this.seed, this.counter];
  }

  setState(state: unknown): void {
    const ok =
      Array.isArray(state) && state.length === 2 && state.every((v) => Number.isSafeInteger(v) && v >= 0) && state[0] === this.seed;
    if (!ok) throw new Error(`SeededRandom: invalid state ${JSON.stringify(state)} (expected [${this.seed}, draws so far])`);
    this.counter = (state as number[])[1];
  }
}
