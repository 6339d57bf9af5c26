// mmengine's merge rules: a child config deep-merges onto its bases; lists and scalars replace;
// `_delete_: true` in a child section replaces the base section instead of merging into it.

import { InputError } from '../errors.js';
import { isPlainObject } from '../schema.js';

export type ConfigDict = Record<string, unknown>;

export const DELETE_KEY = '_delete_';

/** A fresh copy of `child` merged onto `base` (neither is modified). */
export function mergeConfig(base: ConfigDict, child: ConfigDict, file?: string, path = ''): ConfigDict {
  const out: ConfigDict = { ...base };
  for (const [key, value] of Object.entries(child)) {
    if (key === DELETE_KEY) continue;
    const keyPath = path ? `${path}.${key}` : key;
    if (isPlainObject(value)) {
      const replace = value[DELETE_KEY] === true;
      const prev = out[key];
      if (!replace && prev !== undefined && prev !== null && !isPlainObject(prev)) {
        throw new InputError(
          `${keyPath} is an object here but ${describe(prev)} in a base config; set ${keyPath}._delete_ = true to replace it`,
          file,
        );
      }
      out[key] = mergeConfig(replace || !isPlainObject(prev) ? {} : prev, value, file, keyPath);
    } else {
      out[key] = cloneValue(value);
    }
  }
  return out;
}

function describe(v: unknown): string {
  return Array.isArray(v) ? 'a list' : `${typeof v} ${JSON.stringify(v)}`;
}

function cloneValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(cloneValue);
  if (isPlainObject(v)) return cloneConfig(v);
  return v;
}

/** A deep copy of plain objects and lists (`_delete_` markers kept). */
export function cloneConfig(config: ConfigDict): ConfigDict {
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k, cloneValue(v)]));
}

/**
 * Merges sibling `_base_` configs in order. As in mmengine, a top-level key defined by two
 * siblings is an error: the order of a list of bases must not decide silently.
 */
export function mergeSiblings(bases: { file: string; config: ConfigDict }[], file: string): ConfigDict {
  const owner = new Map<string, string>();
  let merged: ConfigDict = {};
  for (const base of bases) {
    for (const key of Object.keys(base.config)) {
      const first = owner.get(key);
      if (first !== undefined) {
        throw new InputError(`'${key}' is defined in two _base_ files: ${first} and ${base.file}; keep it in one of them`, file);
      }
      owner.set(key, base.file);
    }
    merged = mergeConfig(merged, base.config, base.file);
  }
  return merged;
}
