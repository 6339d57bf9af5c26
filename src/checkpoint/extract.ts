// Finds the weights inside a checkpoint object the way training code does by hand: `state_dict`,
// else `model`, else the object itself; strips DataParallel's `module.` and says what it did.
import { InputError } from '../errors.js';
import { OrderedDict, PyInstance } from './pyobjects.js';
import { isTensor } from './storage.js';
import type { StateDict, StateDictMetadata, TorchTensor } from './types.js';

export interface ExtractOptions {
  /** Take the state dict from this top-level key instead of guessing. */
  key?: string;
  /** true (default): strip `module.` when every key has it; a string: strip that prefix (every key must
   * have it); false: keep keys as they are. */
  stripPrefix?: string | boolean;
  /** Prefixed to error messages. */
  file?: string;
}

export interface ExtractedStateDict {
  stateDict: StateDict;
  metadata: StateDictMetadata;
  /** 'state_dict' | 'model' | 'raw' | the key that held it. */
  source: string;
  strippedPrefix?: string;
  notes: string[];
}

type Dict = Map<unknown, unknown>;

const isDict = (x: unknown): x is Dict => x instanceof Map;
const hasTensors = (x: unknown): boolean => isDict(x) && [...x.values()].some(isTensor);

/** A short description of any unpickled value, for messages and `inspect`. */
export function describeValue(x: unknown): string {
  if (x === null || x === undefined) return 'None';
  if (isTensor(x)) return `tensor ${x.dtype}[${x.shape.join(', ')}]`;
  if (x instanceof OrderedDict) return `OrderedDict (${x.size} entries)`;
  if (isDict(x)) return `dict (${x.size} entries)`;
  if (Array.isArray(x)) return `list/tuple (${x.length} items)`;
  if (x instanceof Set) return `set (${x.size} items)`;
  if (x instanceof PyInstance) return `${x.className} object`;
  if (x instanceof Uint8Array) return `bytes (${x.length})`;
  if (typeof x === 'string') return x.length > 40 ? `str (${x.length} chars)` : `str '${x}'`;
  if (typeof x === 'bigint') return `int ${x}`;
  if (typeof x === 'number') return Number.isInteger(x) ? `int ${x}` : `float ${x}`;
  if (typeof x === 'boolean') return `bool ${x ? 'True' : 'False'}`;
  return typeof x === 'object' && 'qualname' in x ? String((x as { qualname: unknown }).qualname) : typeof x;
}

function listKeys(d: Dict): string {
  const keys = [...d.keys()].map(String);
  return keys.length > 12 ? `${keys.slice(0, 12).join(', ')}, ... (${keys.length} in all)` : keys.join(', ');
}

function pick(obj: unknown, opts: ExtractOptions, fail: (m: string) => never): { dict: Dict; source: string; note?: string } {
  if (opts.key !== undefined) {
    if (!isDict(obj)) fail(`cannot take key '${opts.key}': the checkpoint holds a ${describeValue(obj)}, not a dict`);
    const d = obj as Dict;
    if (!d.has(opts.key)) fail(`has no top-level key '${opts.key}' (keys: ${listKeys(d)})`);
    const v = d.get(opts.key);
    if (!isDict(v)) fail(`'${opts.key}' holds a ${describeValue(v)}, not a state dict`);
    return { dict: v as Dict, source: opts.key };
  }
  if (isTensor(obj)) fail('holds a single tensor, not a state dict');
  if (obj instanceof PyInstance) fail(`holds a ${obj.className} object (a pickled model?), not a state dict`);
  if (!isDict(obj)) fail(`holds a ${describeValue(obj)}, not a state dict`);
  const d = obj as Dict;
  for (const key of ['state_dict', 'model']) {
    if (!d.has(key)) continue;
    const v = d.get(key);
    if (!isDict(v)) fail(`'${key}' holds a ${describeValue(v)}, not a state dict`);
    return { dict: v as Dict, source: key };
  }
  if (hasTensors(d)) return { dict: d, source: 'raw' };
  const candidates = [...d.entries()].filter(([, v]) => hasTensors(v));
  if (candidates.length === 1) {
    const [k, v] = candidates[0];
    return { dict: v as Dict, source: String(k), note: `took '${String(k)}', the only top-level dict of tensors` };
  }
  if (candidates.length > 1) {
    fail(`holds several dicts of tensors (${candidates.map(([k]) => String(k)).join(', ')}); choose one with --key`);
  }
  return fail(`holds no state dict: no 'state_dict' or 'model' entry and no tensors (keys: ${listKeys(d)})`);
}

function metadataOf(d: Dict): StateDictMetadata {
  const out: StateDictMetadata = new Map();
  const md = d instanceof OrderedDict ? d.attrs.get('_metadata') : undefined;
  if (!isDict(md)) return out;
  for (const [k, v] of md) out.set(String(k), isDict(v) ? Object.fromEntries([...v].map(([a, b]) => [String(a), b])) : {});
  return out;
}

/** torch's consume_prefix_in_state_dict_if_present for `_metadata`: `module` → '', `module.x` → `x`. */
function stripMetadata(md: StateDictMetadata, prefix: string): StateDictMetadata {
  const out: StateDictMetadata = new Map();
  for (const [k, v] of md) {
    const matches = k === prefix.slice(0, -1) || k.startsWith(prefix);
    out.set(matches ? k.slice(prefix.length) : k, v);
  }
  return out;
}

export function extractStateDict(obj: unknown, opts: ExtractOptions = {}): ExtractedStateDict {
  const fail = (m: string): never => {
    throw new InputError(m, opts.file);
  };
  const { dict, source, note } = pick(obj, opts, fail);
  const notes = note ? [note] : [];
  const stateDict: StateDict = new Map();
  const skipped: string[] = [];
  for (const [k, v] of dict) {
    if (isTensor(v) && typeof k === 'string') stateDict.set(k, v);
    else skipped.push(String(k));
  }
  const where = source === 'raw' ? 'the checkpoint' : `'${source}'`;
  if (stateDict.size === 0) fail(`${where} holds no tensors (keys: ${listKeys(dict)})`);
  if (skipped.length) notes.push(`skipped ${skipped.length} non-tensor entries in ${where}: ${skipped.slice(0, 8).join(', ')}${skipped.length > 8 ? ', ...' : ''}`);
  let metadata = metadataOf(dict);

  const wanted = opts.stripPrefix ?? true;
  const keys = [...stateDict.keys()];
  let prefix: string | undefined;
  if (typeof wanted === 'string') {
    prefix = wanted.endsWith('.') ? wanted : `${wanted}.`;
    const carrying = keys.filter((k) => k.startsWith(prefix as string)).length;
    if (carrying !== keys.length) fail(`cannot strip '${prefix}': only ${carrying} of ${keys.length} keys start with it (use selectPrefix to take a sub-tree)`);
  } else if (wanted && keys.every((k) => k.startsWith('module.'))) {
    prefix = 'module.';
  }
  if (prefix === undefined) return { stateDict, metadata, source, notes };
  const stripped: StateDict = new Map();
  for (const [k, v] of stateDict) stripped.set(k.slice(prefix.length), v);
  metadata = stripMetadata(metadata, prefix);
  notes.push(`stripped '${prefix}' from all ${keys.length} keys${prefix === 'module.' ? ' (DataParallel)' : ''}`);
  return { stateDict: stripped, metadata, source, strippedPrefix: prefix, notes };
}

/** The sub-tree of keys under `prefix` (e.g. `backbone.`), with the prefix removed. */
export function selectPrefix(stateDict: StateDict, prefix: string, file?: string): StateDict {
  const p = prefix.endsWith('.') ? prefix : `${prefix}.`;
  const out: StateDict = new Map<string, TorchTensor>();
  for (const [k, v] of stateDict) if (k.startsWith(p)) out.set(k.slice(p.length), v);
  if (out.size === 0) {
    const tops = [...new Set([...stateDict.keys()].map((k) => k.split('.')[0]))];
    throw new InputError(`no keys start with '${p}' (top-level names: ${tops.slice(0, 12).join(', ')}${tops.length > 12 ? ', ...' : ''})`, file);
  }
  return out;
}
