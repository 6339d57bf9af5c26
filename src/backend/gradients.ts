// Registers tfjs-core's gradient functions, which training needs and inference does not.
// tfjs-core 4.22's Node bundle (dist/tf-core.node.js, what `import '@tensorflow/tfjs-core'` loads)
// ships no gradients; they exist only as ES modules with extensionless relative imports
// (dist/register_all_gradients.js → './gradients/Abs_grad'), which Node's ESM loader refuses.
// A resolve hook that retries such imports with '.js' / '/index.js' lets Node load them. They bring
// a second copy of tfjs-core's ESM modules, which is harmless: the engine and the kernel/gradient
// registries live on globalThis, and Tensor's instanceof check is structural. Loading costs ~1.5 s
// once per process, so it happens only when training is asked for.
import { register } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';

const RESOLVE_HOOK = `
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (error) {
    const fromCore = context.parentURL && context.parentURL.includes('/@tensorflow/tfjs-core/dist/');
    if (!fromCore || !specifier.startsWith('.')) throw error;
    for (const suffix of ['.js', '/index.js']) {
      try { return await next(specifier + suffix, context); } catch {}
    }
    throw error;
  }
}`;

let loading: Promise<void> | undefined;

/** Makes tf.grad/tf.grads/optimizers work: registers every gradient tfjs-core defines. Idempotent. */
export function ensureGradients(): Promise<void> {
  loading ??= (async () => {
    releaseTapeAsItRuns();
    if (tf.getGradient('Conv2D') != null) return; // someone (e.g. the @tensorflow/tfjs umbrella) already did
    register('data:text/javascript,' + encodeURIComponent(RESOLVE_HOOK));
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
    if (tf.getGradient('Conv2D') == null) throw new Error('tfjs-core gradients failed to register');
  })();
  return loading;
}

interface TapeNode {
  inputs: Record<string, tf.Tensor>;
  saved?: tf.Tensor[];
  gradient?: (dys: Array<tf.Tensor | null>) => Record<string, () => tf.Tensor>;
}

interface EngineInternals {
  state: { activeTape: TapeNode[]; gradientDepth: number };
  addTapeNode(...args: unknown[]): void;
  gradients(f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor, allowNoGradients?: boolean): unknown;
  releasesTape?: boolean;
}

/**
 * tfjs-core's backprop keeps every tape node's saved tensors and every intermediate gradient
 * until the whole backward pass ends, so its peak is the forward's saved activations plus the
 * gradient of every one of them (about 0.65 GB more than the forward at the end of it for the
 * d-li14 + FPN detector at 320 px, batch 2). Each first-order node's gradient is wrapped so that
 * once backprop has taken the gradients of all its inputs, the tensors only it reads (its saved
 * tensors and the gradients of its outputs) are freed. A gradient a node hands out twice, or one
 * it also holds, is cloned first, so freeing never reaches a tensor still in use; the caller's
 * own dy is never freed. Higher-order gradients (nested tapes) are left as tfjs runs them.
 */
function releaseTapeAsItRuns(): void {
  const engine = tf.engine() as unknown as EngineInternals;
  if (engine.releasesTape) return;
  engine.releasesTape = true;
  const callerDy: Array<tf.Tensor | undefined> = [];
  const gradients = engine.gradients.bind(engine);
  engine.gradients = (f, xs, dy, allowNoGradients) => {
    callerDy.push(dy);
    try {
      return gradients(f, xs, dy, allowNoGradients);
    } finally {
      callerDy.pop();
    }
  };
  const handedOut = new WeakSet<tf.Tensor>();
  const addTapeNode = engine.addTapeNode.bind(engine);
  engine.addTapeNode = (...args: unknown[]) => {
    addTapeNode(...args);
    const tape = engine.state.activeTape;
    const node = tape[tape.length - 1];
    const gradient = node.gradient;
    if (!gradient || engine.state.gradientDepth !== 1) return;
    node.gradient = (dys) => {
      const thunks = gradient(dys);
      if (engine.state.gradientDepth !== 0) return thunks;
      const held = [...dys.filter((t): t is tf.Tensor => t != null && !callerDy.includes(t)), ...(node.saved ?? [])];
      let pending = Object.keys(node.inputs).length;
      const wrapped: Record<string, () => tf.Tensor> = {};
      for (const [name, thunk] of Object.entries(thunks)) {
        wrapped[name] = () => {
          let dx = thunk();
          if (handedOut.has(dx) || held.includes(dx)) dx = dx.clone();
          handedOut.add(dx);
          if (name in node.inputs && --pending === 0) tf.dispose(held);
          return dx;
        };
      }
      return wrapped;
    };
  };
}
