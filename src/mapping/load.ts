// Reads and validates mapping files (mappings/*.json, format in mappings/README.md) into compiled
// Mappings. Every problem is an InputError naming the file, so a broken user mapping says where.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../errors.js';
import { parseTemplate, templateNames, type TableValue, type Tables, type Template } from './template.js';
import type { IgnoreRule, Include, InferRule, Mapping, MappingTarget, ModelOptions, RenameRule } from './types.js';

/** The folder of mapping files shipped with torchport (`<package>/mappings`). */
export const BUILTIN_MAPPINGS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../mappings');

const FILE_FIELDS = new Set([
  'description', 'source', 'model', 'targets', 'modelOptions', 'infer', 'fingerprint', 'tables', 'ignore', 'rules', 'include',
]);

type Json = Record<string, unknown>;

class Reader {
  constructor(readonly file: string, readonly name: string) {}

  fail(message: string): never {
    throw new InputError(message, this.file);
  }

  object(v: unknown, where: string): Json {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(`${where} must be an object`);
    return v as Json;
  }

  fields(o: Json, allowed: string[], where: string): void {
    for (const k of Object.keys(o)) {
      if (!allowed.includes(k)) this.fail(`${where} has an unknown field '${k}' (allowed: ${allowed.join(', ')})`);
    }
  }

  string(v: unknown, where: string): string {
    if (typeof v !== 'string' || v.length === 0) this.fail(`${where} must be a non-empty string`);
    return v as string;
  }

  optString(v: unknown, where: string): string | undefined {
    return v === undefined ? undefined : this.string(v, where);
  }

  array(v: unknown, where: string): unknown[] {
    if (!Array.isArray(v)) this.fail(`${where} must be an array`);
    return v as unknown[];
  }

  regex(v: unknown, where: string): RegExp {
    const text = this.string(v, where);
    try {
      return new RegExp(text);
    } catch (err) {
      return this.fail(`${where}: invalid regular expression /${text}/: ${(err as Error).message}`);
    }
  }

  template(v: unknown, where: string, known: Set<string>): Template {
    const text = this.string(v, where);
    let t: Template;
    try {
      t = parseTemplate(text);
    } catch (err) {
      return this.fail(`${where}: ${(err as Error).message}`);
    }
    for (const name of templateNames(t)) {
      if (!known.has(name)) this.fail(`${where}: '{${name}}' is neither a capture of 'from' nor a table`);
    }
    return t;
  }

  tables(v: unknown, where: string): Tables {
    if (v === undefined) return {};
    const o = this.object(v, where);
    for (const [k, t] of Object.entries(o)) {
      const ok = typeof t === 'number' || typeof t === 'string' ||
        (Array.isArray(t) && t.every((x) => typeof x === 'number' || typeof x === 'string')) ||
        (typeof t === 'object' && t !== null && !Array.isArray(t) &&
          Object.values(t).every((x) => typeof x === 'number' || typeof x === 'string'));
      if (!ok) this.fail(`${where}.${k} must be a number, a string, an array or an object of numbers/strings`);
    }
    return o as Record<string, TableValue>;
  }
}

/** Capture names a regex defines: its named groups and `$1..$n`. */
function captureNames(re: RegExp): string[] {
  // Count groups in the source with escapes and character classes removed.
  const bare = re.source.replace(/\\./g, '').replace(/\[[^\]]*\]/g, '');
  const named = [...bare.matchAll(/\(\?<([A-Za-z_]\w*)>/g)].map((m) => m[1]);
  const count = [...bare.matchAll(/\((?!\?)|\(\?<(?![=!])/g)].length;
  return [...named, ...Array.from({ length: count }, (_, i) => `$${i + 1}`)];
}

function readRules<T extends RenameRule | IgnoreRule>(
  r: Reader, v: unknown, field: 'rules' | 'ignore', tableNames: Set<string>, seen: Set<string>,
): T[] {
  if (v === undefined) return [];
  return r.array(v, field).map((raw, i) => {
    const o = r.object(raw, `${field}[${i}]`);
    const id = r.string(o.id, `${field}[${i}].id`);
    const where = `${field} '${id}'`;
    r.fields(o, field === 'rules' ? ['id', 'from', 'to', 'ifTarget', 'unlessTarget', 'note', 'kernel'] : ['id', 'from', 'reason', 'ifTarget', 'unlessTarget'], where);
    if (seen.has(id)) r.fail(`rule id '${id}' is used twice`);
    seen.add(id);
    const from = r.regex(o.from, `${where}.from`);
    const known = new Set([...captureNames(from), ...tableNames]);
    const cond = (k: 'ifTarget' | 'unlessTarget') => (o[k] === undefined ? undefined : r.template(o[k], `${where}.${k}`, known));
    const base = { id: `${r.name}/${id}`, from, ifTarget: cond('ifTarget'), unlessTarget: cond('unlessTarget') };
    if (field === 'rules') {
      r.optString(o.note, `${where}.note`);
      if (o.kernel !== undefined && o.kernel !== '1x1') r.fail(`${where}.kernel must be "1x1" (dense parameters that are 1x1 convolutions in the checkpoint)`);
      return { ...base, to: r.template(o.to, `${where}.to`, known), ...(o.kernel ? { kernel: '1x1' } : {}) } as T;
    }
    return { ...base, reason: r.string(o.reason, `${where}.reason`) } as T;
  });
}

function readInfer(r: Reader, v: unknown): Record<string, InferRule> {
  const out: Record<string, InferRule> = {};
  if (v === undefined) return out;
  for (const [option, raw] of Object.entries(r.object(v, 'infer'))) {
    const o = r.object(raw, `infer.${option}`);
    if (o.candidates !== undefined) {
      r.fields(o, ['candidates'], `infer.${option}`);
      const values = r.array(o.candidates, `infer.${option}.candidates`);
      if (values.length === 0) r.fail(`infer.${option}.candidates is empty`);
      out[option] = { kind: 'candidates', values };
    } else {
      r.fields(o, ['fromSource', 'dim'], `infer.${option}`);
      const dim = o.dim ?? 0;
      if (!Number.isInteger(dim) || (dim as number) < 0) r.fail(`infer.${option}.dim must be a non-negative integer`);
      out[option] = { kind: 'fromSource', pattern: r.regex(o.fromSource, `infer.${option}.fromSource`), dim: dim as number };
    }
  }
  return out;
}

function readTargets(r: Reader, o: Json, fileTables: Tables, fileOptions: ModelOptions): MappingTarget[] {
  if (o.model !== undefined && o.targets !== undefined) r.fail("give either 'model' or 'targets', not both");
  if (o.model !== undefined) return [{ model: r.string(o.model, 'model'), modelOptions: fileOptions, tables: fileTables }];
  if (o.targets === undefined) return [];
  return r.array(o.targets, 'targets').map((raw, i) => {
    const t = r.object(raw, `targets[${i}]`);
    r.fields(t, ['model', 'modelOptions', 'tables'], `targets[${i}]`);
    return {
      model: r.string(t.model, `targets[${i}].model`),
      modelOptions: { ...fileOptions, ...(t.modelOptions === undefined ? {} : r.object(t.modelOptions, `targets[${i}].modelOptions`)) },
      tables: { ...fileTables, ...r.tables(t.tables, `targets[${i}].tables`) },
    };
  });
}

/** Resolves a mapping reference: a path to a .json file, or the name of a file in `dirs`. */
export function findMappingFile(ref: string, dirs: string[] = [BUILTIN_MAPPINGS_DIR]): string {
  if (ref.endsWith('.json') || ref.includes('/')) {
    if (!existsSync(ref)) throw new InputError('mapping file not found', ref);
    return ref;
  }
  for (const dir of dirs) {
    const file = join(dir, `${ref}.json`);
    if (existsSync(file)) return file;
  }
  const known = listMappingFiles(dirs).map((f) => basename(f, '.json'));
  throw new InputError(`unknown mapping '${ref}' (known: ${known.join(', ') || 'none'}; or pass a path to a .json file)`);
}

/** All `*.json` mapping files in `dirs`, sorted by name. */
export function listMappingFiles(dirs: string[] = [BUILTIN_MAPPINGS_DIR]): string[] {
  const files: string[] = [];
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) if (extname(f) === '.json') files.push(join(dir, f));
  }
  return files;
}

/**
 * Reads one mapping file. Included mappings are looked up in the file's own folder, then in `dirs`.
 * `chain` guards against include cycles.
 */
export function loadMapping(ref: string, dirs: string[] = [BUILTIN_MAPPINGS_DIR], chain: string[] = [], cache = new Map<string, Mapping>()): Mapping {
  const file = resolve(findMappingFile(ref, dirs));
  const name = basename(file, '.json');
  if (chain.includes(file)) throw new InputError(`include cycle: ${[...chain, file].map((f) => basename(f)).join(' → ')}`, file);
  const cached = cache.get(file);
  if (cached) return cached;
  const r = new Reader(file, name);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return r.fail(`not valid JSON: ${(err as Error).message}`);
  }
  const o = r.object(json, 'the mapping file');
  r.fields(o, [...FILE_FIELDS], 'the mapping file');
  const tables = r.tables(o.tables, 'tables');
  const modelOptions = o.modelOptions === undefined ? {} : r.object(o.modelOptions, 'modelOptions');
  const targets = readTargets(r, o, tables, modelOptions);
  const tableNames = new Set([...Object.keys(tables), ...targets.flatMap((t) => Object.keys(t.tables))]);
  const ids = new Set<string>();
  const fp = o.fingerprint === undefined ? {} : r.object(o.fingerprint, 'fingerprint');
  r.fields(fp, ['requires', 'forbids'], 'fingerprint');
  const regexList = (v: unknown, where: string) => (v === undefined ? [] : r.array(v, where).map((x, i) => r.regex(x, `${where}[${i}]`)));
  const includes: Include[] = o.include === undefined ? [] : r.array(o.include, 'include').map((raw, i) => {
    const inc = r.object(raw, `include[${i}]`);
    r.fields(inc, ['mapping', 'sourcePrefix', 'replaceWith', 'targetPrefix', 'target', 'optionsKey'], `include[${i}]`);
    const sourcePrefix = inc.sourcePrefix === undefined ? '' : inc.sourcePrefix;
    if (typeof sourcePrefix !== 'string') r.fail(`include[${i}].sourcePrefix must be a string`);
    const str = (k: string) => (inc[k] === undefined ? '' : r.string(inc[k], `include[${i}].${k}`));
    return {
      mapping: loadMapping(r.string(inc.mapping, `include[${i}].mapping`), [dirname(file), ...dirs], [...chain, file], cache),
      sourcePrefix: sourcePrefix as string,
      replaceWith: str('replaceWith'),
      targetPrefix: str('targetPrefix'),
      target: r.optString(inc.target, `include[${i}].target`),
      optionsKey: r.optString(inc.optionsKey, `include[${i}].optionsKey`),
    };
  });
  const mapping: Mapping = {
    name,
    file,
    description: r.optString(o.description, 'description') ?? '',
    source: r.optString(o.source, 'source'),
    targets,
    tables,
    modelOptions,
    infer: readInfer(r, o.infer),
    requires: regexList(fp.requires, 'fingerprint.requires'),
    forbids: regexList(fp.forbids, 'fingerprint.forbids'),
    ignore: readRules<IgnoreRule>(r, o.ignore, 'ignore', tableNames, ids),
    rules: readRules<RenameRule>(r, o.rules, 'rules', tableNames, ids),
    includes,
    json,
  };
  if (mapping.ignore.length + mapping.rules.length + includes.length === 0) r.fail('the mapping has no rules, ignore entries or includes');
  cache.set(file, mapping);
  return mapping;
}

/** Loads every mapping file in `dirs` that names at least one target model. */
export function loadAllMappings(dirs: string[] = [BUILTIN_MAPPINGS_DIR]): Mapping[] {
  const cache = new Map<string, Mapping>();
  return listMappingFiles(dirs).map((f) => loadMapping(f, dirs, [], cache)).filter((m) => m.targets.length > 0);
}
