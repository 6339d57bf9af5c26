// Runs a mapping backwards: the key a layout gives each of a model's parameters, derived from the
// same rules `convert` uses (no second table). Every candidate is checked by resolving it forward
// again: a key is only ever written if the rules map it back to the same parameter.
//
// Where a rule leaves part of a key open (torchvision's `block\.\d+\.fc1`: the slot of the SE
// module), the candidate takes the next slot after the modules written before it, as PyTorch
// numbers a Sequential's children in order. Keys recorded from the converted checkpoint (hints)
// take precedence at every level of the mapping tree they came through, so a layout that shares an
// included mapping with the source reuses the source's exact keys there.
import { InputError } from '../errors.js';
import { fillPattern, invertTemplate } from './invert.js';
import { resolveKey, tablesFor } from './plan.js';
import type { Tables } from './template.js';
import type { Mapping } from './types.js';

/** `<mapping file>\0<name at that level>` → the key the source used at that level. */
export type KeyHints = Map<string, string>;

const hintId = (mapping: Mapping, localTarget: string) => `${mapping.file}\u0000${localTarget}`;

/** Hints from the keys of a converted checkpoint, resolved through the mapping it was converted with. */
export function keyHints(keys: string[], mapping: Mapping, model: string, names: ReadonlySet<string>): KeyHints {
  const hints: KeyHints = new Map();
  for (const key of keys) {
    const { resolution, path } = resolveKey(key, mapping, model, names);
    if (resolution.kind !== 'mapped') continue;
    for (const step of path) hints.set(hintId(step.mapping, resolution.target.slice(step.targetPrefix.length)), step.key);
  }
  return hints;
}

interface Scope {
  mapping: Mapping;
  tables: Tables;
}

interface Candidate {
  key: string;
  free: Array<{ start: number; end: number }>;
}

function candidates(local: string, scope: Scope, model: string, hints: KeyHints): Candidate[] {
  const hint = hints.get(hintId(scope.mapping, local));
  if (hint !== undefined) return [{ key: hint, free: [] }];
  const out: Candidate[] = [];
  for (const inc of scope.mapping.includes) {
    if (!local.startsWith(inc.targetPrefix)) continue;
    const inner = { mapping: inc.mapping, tables: tablesFor(inc.mapping, inc.target ?? model) };
    for (const c of candidates(local.slice(inc.targetPrefix.length), inner, model, hints)) {
      if (!c.key.startsWith(inc.replaceWith)) continue;
      const shift = inc.sourcePrefix.length - inc.replaceWith.length;
      out.push({ key: inc.sourcePrefix + c.key.slice(inc.replaceWith.length), free: c.free.map((f) => ({ start: f.start + shift, end: f.end + shift })) });
    }
  }
  for (const rule of scope.mapping.rules) {
    for (const caps of invertTemplate(rule.to, local, scope.tables)) out.push(...(fillPattern(rule.from, caps) ?? []));
  }
  return out;
}

/** Numbered components of a key: `features.4.block.2.fc1` → (features., 4), (features.4.block., 2). */
function slots(key: string): Array<{ parent: string; slot: number; start: number }> {
  const out: Array<{ parent: string; slot: number; start: number }> = [];
  const re = /(?:^|\.)(\d+)(?=\.|$)/g;
  for (let m = re.exec(key); m; m = re.exec(key)) {
    const start = m.index + m[0].length - m[1].length;
    out.push({ parent: key.slice(0, start), slot: Number(m[1]), start });
  }
  return out;
}

export interface ReversedKeys {
  /** Parameter → key in the layout, for every parameter the layout names. */
  keys: Map<string, string>;
  /** Parameters the layout's rules give no key for. */
  unnamed: string[];
  /** Dense parameters the layout holds as 1x1 convolutions (their rule says `kernel: "1x1"`). */
  conv1x1: Set<string>;
}

/**
 * The key of each of `targets` (the model's parameter names, in the model's order) in the layout of
 * `mapping`, loading into `model`.
 */
export function reverseKeys(targets: string[], mapping: Mapping, model: string, hints: KeyHints = new Map()): ReversedKeys {
  const names = new Set(targets);
  const scope = { mapping, tables: tablesFor(mapping, model) };
  const used = new Map<string, Array<{ slot: number; owner: string }>>();
  const keys = new Map<string, string>();
  const taken = new Set<string>();
  const unnamed: string[] = [];
  const conv1x1 = new Set<string>();
  for (const target of targets) {
    let chosen: { key: string; owner: string; conv1x1: boolean } | undefined;
    for (const c of candidates(target, scope, model, hints)) {
      if (taken.has(c.key)) continue;
      const { resolution } = resolveKey(c.key, mapping, model, names);
      if (resolution.kind !== 'mapped' || resolution.target !== target) continue;
      const owner = resolution.rule.id;
      // An open slot comes after every slot another rule's modules took under the same parent.
      const clash = c.free.some((f) => slots(c.key).some((s) => s.start === f.start
        && (used.get(s.parent) ?? []).some((u) => u.owner !== owner && u.slot >= s.slot)));
      if (clash) continue;
      chosen = { key: c.key, owner, conv1x1: resolution.rule.kernel === '1x1' };
      break;
    }
    if (!chosen) {
      unnamed.push(target);
      continue;
    }
    keys.set(target, chosen.key);
    if (chosen.conv1x1) conv1x1.add(target);
    taken.add(chosen.key);
    for (const s of slots(chosen.key)) {
      const list = used.get(s.parent) ?? [];
      list.push({ slot: s.slot, owner: chosen.owner });
      used.set(s.parent, list);
    }
  }
  return { keys, unnamed, conv1x1 };
}

/**
 * BatchNorm step counters: `<module>.num_batches_tracked` beside every `<module>.running_var`
 * key, where the layout's own rules ignore such a key (so the layout is known to carry them).
 */
export function counterKeys(keys: Iterable<string>, mapping: Mapping, model: string, names: ReadonlySet<string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const key of keys) {
    if (!key.endsWith('.running_var')) continue;
    const counter = `${key.slice(0, -'running_var'.length)}num_batches_tracked`;
    if (resolveKey(counter, mapping, model, names).resolution.kind === 'ignored') out.set(key, counter);
  }
  return out;
}

/** Throws an InputError listing the parameters a layout cannot name. */
export function requireAllNamed(r: ReversedKeys, layout: string): void {
  if (r.unnamed.length === 0) return;
  const list = r.unnamed.slice(0, 5).join(', ') + (r.unnamed.length > 5 ? `, ... (${r.unnamed.length} in all)` : '');
  throw new InputError(`layout '${layout}' has no key for ${list}: its rules cannot hold this model`);
}
