// A small seeded random source (mulberry32) whose whole state is one integer, so a resumed
// training run can restore it and sample exactly what the first run would have.
import type { RngHolder } from '../../../train/types.js';

export class SeededRandom implements RngHolder {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  getState(): number {
    return this.state;
  }

  setState(state: unknown): void {
    if (typeof state !== 'number' || !Number.isInteger(state) || state < 0 || state > 0xffffffff) {
      throw new Error(`SeededRandom: invalid state ${JSON.stringify(state)} (expected a uint32)`);
    }
    this.state = state;
  }
}
