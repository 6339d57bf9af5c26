// SGD with momentum and weight decay, with torch.optim.SGD's exact update (dampening 0):
//   d = g + wd·p;   buf = m·buf + d (buf starts as d);   p -= lr · (nesterov ? d + m·buf : buf)
// The momentum buffer holds gradients, not lr-scaled steps (unlike Keras' SGD), so a learning-rate
// change takes effect at once instead of being smeared over the buffer. Buffers are created zeroed
// up front: with dampening 0, m·0 + d equals PyTorch's "first step clones d" bit for bit, and the
// tensor count stays constant from the first iteration.
import * as tf from '@tensorflow/tfjs-core';

export interface SgdOptions {
  lr: number;
  momentum?: number;
  weightDecay?: number;
  nesterov?: boolean;
  /**
   * Per-parameter multipliers like mmdet's `paramwise_cfg.custom_keys`: a key matches parameters
   * whose name contains it; the longest matching key wins.
   */
  paramwise?: Record<string, { lrMult?: number; decayMult?: number }>;
}

interface Slot {
  variable: tf.Variable;
  buffer?: tf.Variable;
  lrMult: number;
  decayMult: number;
}

export class Sgd {
  readonly momentum: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  /** The base learning rate; schedules set it before each step. */
  lr: number;
  private readonly slots = new Map<string, Slot>();

  constructor(variables: tf.Variable[], options: SgdOptions) {
    this.lr = options.lr;
    this.momentum = options.momentum ?? 0;
    this.weightDecay = options.weightDecay ?? 0;
    this.nesterov = options.nesterov ?? false;
    if (this.nesterov && this.momentum <= 0) throw new Error('nesterov momentum needs momentum > 0');
    const keys = Object.keys(options.paramwise ?? {}).sort((a, b) => b.length - a.length);
    for (const variable of variables) {
      if (this.slots.has(variable.name)) throw new Error(`variable ${variable.name} is listed twice`);
      const key = keys.find((k) => variable.name.includes(k));
      const mult = key === undefined ? {} : options.paramwise![key];
      this.slots.set(variable.name, {
        variable,
        buffer: this.momentum > 0 ? tf.variable(tf.zerosLike(variable), false) : undefined,
        lrMult: mult.lrMult ?? 1,
        decayMult: mult.decayMult ?? 1,
      });
    }
  }

  /** The variables this optimiser updates. */
  get variables(): tf.Variable[] {
    return [...this.slots.values()].map((s) => s.variable);
  }

  /** Applies one step. Variables missing from `grads` (or null there) are left alone, as in PyTorch. */
  step(grads: Record<string, tf.Tensor | null | undefined>): void {
    tf.tidy(() => {
      for (const [name, slot] of this.slots) {
        const g = grads[name];
        if (g == null) continue;
        const wd = this.weightDecay * slot.decayMult;
        let d = wd !== 0 ? tf.add(g, tf.mul(slot.variable, wd)) : g;
        if (slot.buffer) {
          slot.buffer.assign(tf.add(tf.mul(slot.buffer, this.momentum), d));
          d = this.nesterov ? tf.add(d, tf.mul(slot.buffer, this.momentum)) : slot.buffer;
        }
        slot.variable.assign(tf.sub(slot.variable, tf.mul(d, this.lr * slot.lrMult)));
      }
    });
  }

  /** The momentum buffers by parameter name, for checkpoints. */
  state(): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const [name, slot] of this.slots) if (slot.buffer) out.set(name, slot.buffer);
    return out;
  }

  /** Restores momentum buffers saved by `state()`; every buffer must be present with its shape. */
  loadState(buffers: Map<string, tf.Tensor>): void {
    for (const [name, slot] of this.slots) {
      if (!slot.buffer) continue;
      const saved = buffers.get(name);
      if (!saved) throw new Error(`optimizer state has no momentum buffer for ${name}`);
      if (!tf.util.arraysEqual(saved.shape, slot.buffer.shape)) {
        throw new Error(`momentum buffer for ${name} has shape [${saved.shape}], expected [${slot.buffer.shape}]`);
      }
      slot.buffer.assign(saved);
    }
  }

  dispose(): void {
    for (const slot of this.slots.values()) slot.buffer?.dispose();
  }
}
