// `--cfg-options a.b.c=value` overrides, as mmengine's DictAction + merge_from_dict do them:
// typed values (numbers, booleans, null, lists, quoted strings) and list indices in the path.

import { InputError } from '../errors.js';
import { type ConfigDict, cloneConfig, mergeConfig } from './merge.js';
import { isPlainObject } from '../schema.js';

/** Parses one override value: `3`, `1e-3`, `true`, `null`/`None`, `[1,2]`, `'text'`, or a bare string. */
export function parseOverrideValue(text: string): unknown {
  const t = text.trim();
  if (t === '') return '';
  if (/^(true|True)$/.test(t)) return true;
  if (/^(false|False)$/.test(t)) return false;
  if (/^(null|None)$/.test(t)) return null;
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return Number(t);
  if ((t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'"))) {
    return t.length >= 2 ? t.slice(1, -1) : t;
  }
  if ((t.startsWith('[') && t.endsWith(']')) || (t.startsWith('(') && t.endsWith(')'))) {
    return splitTopLevel(t.slice(1, -1)).map(parseOverrideValue);
  }
  if (t.startsWith('{') && t.endsWith('}')) {
    try {
      return JSON.parse(t);
    } catch {
      throw new InputError(`--cfg-options: ${t} is not valid JSON`);
    }
  }
  return t;
}

/** Splits `a, [b, c], 'd,e'` at the commas that are not inside brackets or quotes. */
function splitTopLevel(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = '';
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '(' || c === '{') depth++;
    else if (c === ']' || c === ')' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(body.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(body.slice(start));
  return parts.filter((p) => p.trim() !== '');
}

/**
 * Which keys of a loaded config the command line set, and with which flag (`--cfg-options`,
 * `--data`, `--work-dir`): validation names the flag, not the config file, for a bad value there.
 */
export const commandLineKeys = new WeakMap<ConfigDict, ReadonlyMap<string, string>>();

/** The flag that set `path` (or an object above it), if the command line did. */
export function commandLineFlag(config: ConfigDict, path: string): string | undefined {
  const keys = commandLineKeys.get(config);
  for (let p = path; keys && p; p = p.slice(0, Math.max(0, p.lastIndexOf('.')))) {
    const flag = keys.get(p);
    if (flag) return flag;
  }
  return undefined;
}

/**
 * Where the keys under `prefix` came from, for a message about them as a whole (the model built
 * from them): the file, and the command-line keys that changed some of them.
 */
export function sourceOf(config: ConfigDict, prefix: string, file: string): string {
  const set = [...(commandLineKeys.get(config) ?? [])].filter(([key]) => key === prefix || key.startsWith(`${prefix}.`) || prefix.startsWith(`${key}.`));
  if (set.length === 0) return file;
  const flags = [...new Set(set.map(([, flag]) => flag))];
  return `${file} with ${flags.map((flag) => `${flag} ${set.filter(([, f]) => f === flag).map(([key]) => key).join(' ')}`).join(', ')}`;
}

/** Splits `key=value` strings into pairs (the value keeps any further `=`). */
export function parseOverrides(options: readonly string[]): [string, unknown][] {
  return options.map((opt) => {
    const eq = opt.indexOf('=');
    if (eq <= 0) throw new InputError(`--cfg-options: '${opt}' is not KEY=VALUE (e.g. optimizer.lr=0.01)`);
    return [opt.slice(0, eq).trim(), parseOverrideValue(opt.slice(eq + 1))];
  });
}

/**
 * Applies dotted overrides to a copy of `config`. Missing objects along the path are created; a
 * numeric segment indexes into a list (and must be in range); an object value merges into an
 * existing object, as in mmengine.
 */
export function applyOverrides(config: ConfigDict, overrides: readonly [string, unknown][]): ConfigDict {
  const out = cloneConfig(config);
  for (const [path, value] of overrides) {
    const keys = path.split('.');
    if (keys.some((k) => k === '')) throw new InputError(`--cfg-options: '${path}' has an empty key`);
    let node: unknown = out;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const last = i === keys.length - 1;
      const here = keys.slice(0, i + 1).join('.');
      if (Array.isArray(node)) {
        if (!/^\d+$/.test(key)) throw new InputError(`--cfg-options: ${keys.slice(0, i).join('.')} is a list; '${key}' is not an index`);
        const idx = Number(key);
        if (idx >= node.length) {
          throw new InputError(`--cfg-options: index ${idx} is out of range for ${keys.slice(0, i).join('.')} (length ${node.length})`);
        }
        if (last) node[idx] = merged(node[idx], value);
        else node = node[idx] = descend(node[idx], here);
      } else if (isPlainObject(node)) {
        if (last) node[key] = merged(node[key], value);
        else node = node[key] = descend(node[key], here);
      } else {
        throw new InputError(`--cfg-options: cannot set ${path}: ${keys.slice(0, i).join('.')} is ${JSON.stringify(node)}`);
      }
    }
  }
  return out;
}

function descend(child: unknown, path: string): unknown {
  if (child === undefined || child === null) return {};
  if (isPlainObject(child) || Array.isArray(child)) return child;
  throw new InputError(`--cfg-options: cannot go into ${path}: it is ${JSON.stringify(child)}, not an object or list`);
}

function merged(prev: unknown, value: unknown): unknown {
  return isPlainObject(prev) && isPlainObject(value) ? mergeConfig(prev, value) : value;
}
