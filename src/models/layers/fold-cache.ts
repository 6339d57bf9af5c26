// Weights derived from other weights (folded conv+BatchNorm, column blocks of a dense kernel),
// kept between inference passes.
// Folding BN into the kernel on every forward costs ~5 small kernels per conv and, on wasm, gives
// the conv a new filter tensor each time, so XNNPACK re-packs its weights on every call (its
// operator cache is keyed by the filter). This cache keeps one derived copy per layer and reuses
// it while the source tensors are unchanged: an entry is valid only for the exact dataIds it was
// built from (tf.Variable.assign gives a variable a new dataId, so a training step invalidates it).
// Under gradient recording nothing is cached: gradients must flow to the source tensors.
import * as tf from '@tensorflow/tfjs-core';

export interface Folded {
  kernel: tf.Tensor4D;
  bias: tf.Tensor1D;
}

interface Entry {
  tensors: tf.Tensor[];
  sources: object[];
  tag: number;
}

export class FoldCache {
  private readonly entries = new Map<string, Entry>();

  /** The folded weights for `key`, recomputed by `fold` when `sources` or `eps` changed. */
  get(key: string, sources: readonly tf.Tensor[], eps: number, fold: () => Folded): Folded {
    const [kernel, bias] = this.derived(key, sources, eps, () => {
      const f = fold();
      return [f.kernel, f.bias];
    });
    return { kernel: kernel as tf.Tensor4D, bias: bias as tf.Tensor1D };
  }

  /** The tensors `derive` makes from `sources` for `key`, remade when `sources` or `tag` changed. */
  derived(key: string, sources: readonly tf.Tensor[], tag: number, derive: () => tf.Tensor[]): tf.Tensor[] {
    if (tf.engine().state.gradientDepth > 0) return derive();
    const entry = this.entries.get(key);
    if (entry && entry.tag === tag && entry.sources.every((id, i) => id === sources[i].dataId)) return entry.tensors;
    if (entry) tf.dispose(entry.tensors);
    const tensors = tf.tidy(() => derive().map((t) => tf.keep(t)));
    this.entries.set(key, { tensors, sources: sources.map((s) => s.dataId), tag });
    return tensors;
  }

  /** Frees every cached tensor (the cache refills on the next inference pass). */
  clear(): void {
    for (const e of this.entries.values()) tf.dispose(e.tensors);
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
