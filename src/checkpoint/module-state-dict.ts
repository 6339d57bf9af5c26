// The state dict of a whole pickled `nn.Module` (`torch.save(model)`, YOLOv5's `best.pt`), rebuilt
// from its attributes as `model.state_dict()` would: for each module in pre-order, its `_parameters`
// then its `_buffers` minus `_non_persistent_buffers_set` (None entries skipped), then its `_modules`,
// in registration order. Nothing is imported or run, so a module that overrides `state_dict()` or
// `_save_to_state_dict()` (e.g. quantized packed modules) is not reproduced.
import { InputError } from '../errors.js';
import { PyInstance } from './pyobjects.js';

/** A pickled nn.Module: an inert instance carrying torch's module bookkeeping. */
export function isModule(x: unknown): x is PyInstance {
  return x instanceof PyInstance && x.attrs.get('_modules') instanceof Map
    && x.attrs.get('_parameters') instanceof Map && x.attrs.get('_buffers') instanceof Map;
}

/** Modules visited at most: bounds a cyclic or exponentially shared module graph in a hostile file. */
const MAX_MODULES = 1_000_000;

export function moduleStateDict(root: PyInstance, file?: string): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const work: Array<[PyInstance, string]> = [[root, '']];
  let visited = 0;
  while (work.length) {
    const [m, prefix] = work.pop() as [PyInstance, string];
    if (++visited > MAX_MODULES) throw new InputError(`the pickled module tree has over ${MAX_MODULES} modules (cyclic?)`, file);
    const nonPersistent = m.attrs.get('_non_persistent_buffers_set');
    const skip = nonPersistent instanceof Set ? nonPersistent : new Set();
    for (const [name, p] of m.attrs.get('_parameters') as Map<unknown, unknown>) if (p !== null) out.set(prefix + String(name), p);
    for (const [name, b] of m.attrs.get('_buffers') as Map<unknown, unknown>) if (b !== null && !skip.has(name)) out.set(prefix + String(name), b);
    const children = [...(m.attrs.get('_modules') as Map<unknown, unknown>)].filter(([, c]) => c !== null);
    for (let i = children.length - 1; i >= 0; i--) {
      const [name, child] = children[i];
      if (!isModule(child)) throw new InputError(`submodule '${prefix}${String(name)}' is a ${child instanceof PyInstance ? child.className : typeof child}, not a module`, file);
      work.push([child, `${prefix}${String(name)}.`]);
    }
  }
  return out;
}
