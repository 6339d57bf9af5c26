// Reading config files: JS modules (`export default {...}`) or JSON, `_base_` chains merged in
// order, paths made absolute relative to the file that wrote them, `--cfg-options` and `--data`
// applied last (their paths relative to the working directory), and `customImports` imported
// so plugins register before anything is built.

import { spawnSync } from 'node:child_process';
import { readFileSync, existsSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputError } from '../errors.js';
import { type ConfigDict, cloneConfig, mergeConfig, mergeSiblings } from './merge.js';
import { applyOverrides, commandLineKeys, parseOverrides } from './overrides.js';
import { isPlainObject } from '../schema.js';

export interface LoadOptions {
  /** `--cfg-options` entries, `key=value` each. */
  cfgOptions?: readonly string[];
  /** `--data DIR`: the dataset root (COCO layout), relative to `cwd`. */
  data?: string;
  /** `--work-dir`. */
  workDir?: string;
  /** Base for paths given on the command line; default process.cwd(). */
  cwd?: string;
}

export interface LoadedConfig {
  /** The merged config: `_base_` removed, every path absolute. */
  config: ConfigDict;
  /** Absolute path of the top config file. */
  file: string;
  /** Every file read, bases first. */
  files: string[];
  /** The plugin modules imported, absolute paths. */
  imported: string[];
}

const EXTENSIONS = ['.js', '.mjs', '.cjs', '.json'];

/**
 * Keys whose values are file paths, resolved relative to the config file that sets them;
 * `init_cfg.checkpoint` is matched at any depth.
 */
const PATH_KEYS = ['load_from', 'workDir', 'data.root', 'customImports'];

function resolvePaths(config: ConfigDict, base: string): ConfigDict {
  const out = cloneConfig(config);
  const fix = (v: unknown): unknown => (typeof v === 'string' && v !== '' && !v.includes('://') ? resolve(base, v) : v);
  for (const key of PATH_KEYS) {
    const parts = key.split('.');
    const parent = parts.slice(0, -1).reduce<unknown>((node, k) => (isPlainObject(node) ? node[k] : undefined), out);
    const last = parts[parts.length - 1];
    if (!isPlainObject(parent) || !(last in parent)) continue;
    const v = parent[last];
    parent[last] = Array.isArray(v) ? v.map(fix) : fix(v);
  }
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    if (!isPlainObject(node)) return;
    const init = node.init_cfg;
    if (isPlainObject(init) && typeof init.checkpoint === 'string') init.checkpoint = fix(init.checkpoint);
    Object.values(node).forEach(walk);
  };
  walk(out);
  return out;
}

async function importModule(file: string): Promise<ConfigDict> {
  const ext = extname(file);
  let value: unknown;
  if (ext === '.json') {
    const text = readFileSync(file, 'utf8');
    try {
      value = JSON.parse(text);
    } catch (err) {
      const { message } = err as Error;
      throw new InputError(`not valid JSON: ${message.replace(/ in JSON at position \d+.*| \(line \d+ column \d+\)/, '')}`, `${file}${jsonPosition(text, message)}`);
    }
  } else {
    let mod: { default?: unknown };
    try {
      // A query keeps edits visible to long-lived processes (tests) without a stale module cache.
      mod = await import(`${pathToFileURL(file).href}?mtime=${statSync(file).mtimeMs}`);
    } catch (err) {
      throw syntaxError(file) ?? new InputError(`cannot load config: ${(err as Error).message.split('\n')[0]}`, file);
    }
    value = mod.default;
  }
  if (!isPlainObject(value)) {
    throw new InputError(ext === '.json' ? 'a config must be a JSON object' : 'a config module must `export default { ... }` an object', file);
  }
  return value;
}

/** `:line:column` of a JSON.parse error (Node 20 gives a position, later versions the line and column). */
function jsonPosition(text: string, message: string): string {
  const lineColumn = /line (\d+) column (\d+)/.exec(message);
  if (lineColumn) return `:${lineColumn[1]}:${lineColumn[2]}`;
  const position = /at position (\d+)/.exec(message);
  if (!position) return '';
  const before = text.slice(0, Number(position[1])).split('\n');
  return `:${before.length}:${before[before.length - 1].length + 1}`;
}

/**
 * A config module that failed to import because it does not parse, with its place. Node's (or a
 * loader's) import error carries no location, so the file is checked with `node --check`, whose
 * report gives the line and a caret under the column. Undefined when it parses.
 */
function syntaxError(file: string): InputError | undefined {
  const check = spawnSync(process.execPath, [`--input-type=${extname(file) === '.cjs' ? 'commonjs' : 'module'}`, '--check'], {
    input: readFileSync(file), encoding: 'utf8', timeout: 10_000,
  });
  const lines = (check.stderr ?? '').split('\n');
  const line = /^\[stdin\]:(\d+)$/.exec(lines[0] ?? '');
  const error = lines.find((l) => l.startsWith('SyntaxError: '));
  if (check.status === 0 || !line || !error) return undefined;
  const caret = lines[2]?.indexOf('^') ?? -1;
  return new InputError(`syntax error: ${error.slice('SyntaxError: '.length)}`, `${file}:${line[1]}${caret >= 0 ? `:${caret + 1}` : ''}`);
}

function findFile(path: string, from?: string): string {
  if (existsSync(path) && statSync(path).isDirectory()) {
    throw new InputError(from ? `_base_ ${path} is a directory, not a config file` : 'is a directory, not a config file (.js, .mjs, .cjs or .json)', from ?? path);
  }
  if (existsSync(path) && statSync(path).isFile()) return path;
  if (!extname(path)) {
    for (const ext of EXTENSIONS) if (existsSync(path + ext)) return path + ext;
  }
  throw new InputError(from ? `_base_ file not found: ${path}` : 'config file not found', from ?? path);
}

/** Reads one file and its `_base_` chain: the merged result with paths made absolute. */
async function readWithBases(file: string, stack: string[], files: string[]): Promise<ConfigDict> {
  if (stack.includes(file)) throw new InputError(`_base_ cycle: ${[...stack, file].join(' -> ')}`, file);
  if (!EXTENSIONS.includes(extname(file))) {
    throw new InputError(`config files are ${EXTENSIONS.join(', ')} modules; got '${extname(file) || 'no extension'}'`, file);
  }
  const raw = await importModule(file);
  const dir = dirname(file);
  const { _base_: bases, ...own } = raw;
  const baseList = bases === undefined ? [] : Array.isArray(bases) ? bases : [bases];
  if (!baseList.every((b) => typeof b === 'string')) throw new InputError('_base_ must be a path or a list of paths', file);
  const loaded = [];
  for (const b of baseList as string[]) {
    const baseFile = findFile(resolve(dir, b), file);
    loaded.push({ file: baseFile, config: await readWithBases(baseFile, [...stack, file], files) });
  }
  files.push(file);
  return mergeConfig(mergeSiblings(loaded, file), resolvePaths(own, dir), file);
}

/** Loads a config file with its bases, overrides and plugins. Throws InputError on any problem. */
export async function loadConfig(path: string, opts: LoadOptions = {}): Promise<LoadedConfig> {
  const cwd = opts.cwd ?? process.cwd();
  const file = findFile(resolve(cwd, path));
  const files: string[] = [];
  let config = await readWithBases(file, [], files);
  const overrides = parseOverrides(opts.cfgOptions ?? []);
  const flags = new Map(overrides.map(([key]) => [key, '--cfg-options']));
  for (const [key, flag, value] of [['data.root', '--data', opts.data], ['workDir', '--work-dir', opts.workDir]] as const) {
    if (value === undefined) continue;
    overrides.push([key, value]);
    flags.set(key, flag);
  }
  config = resolvePaths(applyOverrides(config, overrides), cwd);
  // mmdetection's default: ./work_dirs/<config name>.
  config.workDir ??= resolve(cwd, 'work_dirs', basename(file, extname(file)));
  commandLineKeys.set(config, flags);
  const imported = await importPlugins(config.customImports, file);
  return { config, file, files, imported };
}

/** What a plugin's default-exported function receives: the registries of the running torchport. */
export interface PluginContext {
  backbones: typeof import('../models/backbones/registry.js').backbones;
  necks: typeof import('../models/necks/registry.js').necks;
  detectors: typeof import('../models/detectors/registry.js').detectors;
  datasets: typeof import('../data/datasets.js').datasets;
  transforms: typeof import('../data/transforms.js').transforms;
  optimizers: typeof import('./optimizers.js').optimizers;
  schedulers: typeof import('./schedulers.js').schedulers;
}

const registeredPlugins = new Set<string>();

async function pluginContext(): Promise<PluginContext> {
  const [b, n, d, ds, t, o, s] = await Promise.all([
    import('../models/backbones/registry.js'),
    import('../models/necks/registry.js'),
    import('../models/detectors/registry.js'),
    import('../data/datasets.js'),
    import('../data/transforms.js'),
    import('./optimizers.js'),
    import('./schedulers.js'),
  ]);
  return {
    backbones: b.backbones,
    necks: n.necks,
    detectors: d.detectors,
    datasets: ds.datasets,
    transforms: t.transforms,
    optimizers: o.optimizers,
    schedulers: s.schedulers,
  };
}

/**
 * Imports each plugin module (absolute paths); a failure names the plugin and shows its error
 * verbatim. A plugin registers either by importing torchport's registries itself, or (robust to
 * how it resolves `torchport`) by default-exporting a function that receives them. The CLI is a
 * bundle with its own copy of the registries, so plugins for the CLI must use the function.
 */
export async function importPlugins(list: unknown, configFile: string): Promise<string[]> {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list) || !list.every((p) => typeof p === 'string')) {
    throw new InputError('customImports must be a list of module paths (relative to the config file)', configFile);
  }
  for (const p of list as string[]) {
    if (!isAbsolute(p) || !existsSync(p)) {
      throw new InputError(`customImports: ${p} does not exist (paths are relative to the config file that lists them)`, configFile);
    }
    try {
      const mod = (await import(pathToFileURL(p).href)) as { default?: unknown };
      // Like the module body, the register function runs once per process (configs may be loaded again).
      if (typeof mod.default === 'function' && !registeredPlugins.has(p)) {
        await (mod.default as (ctx: PluginContext) => unknown)(await pluginContext());
        registeredPlugins.add(p);
      }
    } catch (err) {
      throw new InputError(`customImports: ${p} failed to load: ${(err as Error).message}`, configFile);
    }
  }
  return list as string[];
}
