// Folded conv+BatchNorm weights, kept between inference passes.
// Folding BN into the kernel on every forward costs ~5 small kernels per conv and, on wasm, gives
// the conv a new filter tensor each time, so XNNPACK re-packs its weights on every call (its
// operator cache is keyed by the filter). This cache keeps one folded copy per conv and reuses it
// while the source tensors are unchanged: an entry is valid only for the exact dataIds it was
// built from (tf.Variable.assign gives a variable a new dataId, so a training step invalidates it).
// Under gradient recording nothing is cached: gradients must flow to the source tensors.
import * as tf from '@tensorflow/tfjs-core';

export interface Folded {
  kernel: tf.Tensor4D;
  bias: tf.Tensor1D;
}

interface Entry extends Folded {
  sources: object[];
  eps: number;
}

export class FoldCache {
  private readonly entries = new Map<string, Entry>();

  /** The folded weights for `key`, recomputed by `fold` when `sources` or `eps` changed. */
  get(key: string, sources: readonly tf.Tensor[], eps: number, fold: () => Folded): Folded {
    if (tf.engine().state.gradientDepth > 0) return fold();
    const entry = this.entries.get(key);
    if (entry && entry.eps === eps && entry.sources.every((id, i) => id === sources[i].dataId)) return entry;
    if (entry) tf.dispose([entry.kernel, entry.bias]);
    const folded = tf.tidy(() => {
      const f = fold();
      return { kernel: tf.keep(f.kernel), bias: tf.keep(f.bias) };
    });
    this.entries.set(key, { ...folded, sources: sources.map((s) => s.dataId), eps });
    return folded;
  }

  /** Frees every cached tensor (the cache refills on the next inference pass). */
  clear(): void {
    for (const e of this.entries.values()) tf.dispose([e.kernel, e.bias]);
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
