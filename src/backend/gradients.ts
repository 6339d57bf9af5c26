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
    if (tf.getGradient('Conv2D') != null) return; // someone (e.g. the @tensorflow/tfjs umbrella) already did
    register('data:text/javascript,' + encodeURIComponent(RESOLVE_HOOK));
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
    if (tf.getGradient('Conv2D') == null) throw new Error('tfjs-core gradients failed to register');
  })();
  return loading;
}
