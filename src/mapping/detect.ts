// Auto-detection: scores every (mapping, target model, inferred options) candidate against a
// checkpoint's keys and shapes and picks the one that loads best. Names and shapes only.
import type { FeatureInfo, ParamSpec } from './params.js';
import { InputError } from '../errors.js';
import { planMapping, type MappingPlan, type ResolutionCache, type SourceSpec } from './plan.js';
import type { InferRule, Mapping, MappingTarget, ModelOptions } from './types.js';

export interface ModelDescription {
  specs: ParamSpec[];
  featureInfo: FeatureInfo[];
}

/** Builds a model's declared parameters for options (no TF.js); throws InputError on bad options. */
export type DescribeModel = (model: string, options: ModelOptions) => ModelDescription;

export interface Candidate {
  mapping: Mapping;
  model: string;
  options: ModelOptions;
  description: ModelDescription;
  plan: MappingPlan;
  /** loaded share − half the unexpected share (+ a 0.01 tie-break for the share of keys used). */
  score: number;
}

export interface CandidateSummary {
  mapping: string;
  model: string;
  loadedShare: number;
  unexpected: number;
  score: number;
  /** Why a mapping was not scored (fingerprint failed). */
  skipped?: string;
}

export interface Detection {
  best: Candidate;
  /** Every candidate considered, best first (one line per mapping+model). */
  ranked: CandidateSummary[];
  /** True when the mapping was forced rather than detected. */
  forced: boolean;
  /** False when no mapping's fingerprint matched and the closest one is shown anyway. */
  fingerprintMatched?: boolean;
}

interface InferSite {
  path: string[];
  rule: InferRule;
  /** Source-key translation of the include the rule comes from. */
  translate: (key: string) => string | undefined;
}

function setPath(obj: ModelOptions, path: string[], value: unknown): ModelOptions {
  if (path.length === 1) return { ...obj, [path[0]]: value };
  const inner = (obj[path[0]] ?? {}) as ModelOptions;
  return { ...obj, [path[0]]: setPath(inner, path.slice(1), value) };
}

function targetOf(mapping: Mapping, model: string): MappingTarget | undefined {
  return mapping.targets.find((t) => t.model === model) ?? (mapping.targets.length === 1 ? mapping.targets[0] : undefined);
}

/** Options a mapping sets for `model`: included mappings' first (nested under optionsKey), then its own. */
export function baseOptions(mapping: Mapping, model: string): ModelOptions {
  let options: ModelOptions = {};
  for (const inc of mapping.includes) {
    const inner = baseOptions(inc.mapping, inc.target ?? model);
    options = inc.optionsKey ? setPath(options, [inc.optionsKey], { ...(options[inc.optionsKey] as ModelOptions), ...inner }) : { ...options, ...inner };
  }
  return { ...options, ...(targetOf(mapping, model)?.modelOptions ?? mapping.modelOptions) };
}

function inferSites(mapping: Mapping, model: string, path: string[] = [], translate = (k: string): string | undefined => k): InferSite[] {
  const sites: InferSite[] = [];
  for (const inc of mapping.includes) {
    const inner = (k: string) => {
      const t = translate(k);
      return t !== undefined && t.startsWith(inc.sourcePrefix) ? inc.replaceWith + t.slice(inc.sourcePrefix.length) : undefined;
    };
    sites.push(...inferSites(inc.mapping, inc.target ?? model, inc.optionsKey ? [...path, inc.optionsKey] : path, inner));
  }
  for (const [option, rule] of Object.entries(mapping.infer)) sites.push({ path: [...path, option], rule, translate });
  return sites;
}

function hasPath(obj: ModelOptions, path: string[]): boolean {
  let cur: unknown = obj;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null || !(p in cur)) return false;
    cur = (cur as ModelOptions)[p];
  }
  return true;
}

/** Deep merge of plain objects; `over` wins. */
function merge(base: ModelOptions, over: ModelOptions): ModelOptions {
  const out: ModelOptions = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    const plain = (x: unknown) => typeof x === 'object' && x !== null && !Array.isArray(x);
    out[k] = plain(b) && plain(v) ? merge(b as ModelOptions, v as ModelOptions) : v;
  }
  return out;
}

/** The option sets to try for one mapping target: fixed facts and read-off values, then each candidate combination. */
export function optionCandidates(mapping: Mapping, model: string, sources: SourceSpec[], user: ModelOptions): ModelOptions[] {
  let fixed = baseOptions(mapping, model);
  // The mapping's own facts (and the user's) beat what an included mapping would read off the checkpoint.
  const own = targetOf(mapping, model)?.modelOptions ?? mapping.modelOptions;
  const searched: Array<{ path: string[]; values: unknown[] }> = [];
  for (const site of inferSites(mapping, model)) {
    if (hasPath(user, site.path) || hasPath(own, site.path)) continue;
    if (site.rule.kind === 'candidates') {
      searched.push({ path: site.path, values: site.rule.values });
      continue;
    }
    const pattern = site.rule.pattern;
    const src = sources.find((s) => {
      const k = site.translate(s.key);
      return k !== undefined && pattern.test(k);
    });
    if (src && site.rule.dim < src.shape.length) fixed = setPath(fixed, site.path, src.shape[site.rule.dim]);
  }
  let combos: ModelOptions[] = [merge(fixed, user)];
  for (const { path, values } of searched) {
    combos = combos.flatMap((c) => values.map((v) => setPath(c, path, v)));
  }
  return combos;
}

/** Why a mapping's fingerprint rejects these keys, or undefined when it accepts them. */
export function fingerprintFailure(mapping: Mapping, keys: string[]): string | undefined {
  for (const re of mapping.requires) if (!keys.some((k) => re.test(k))) return `no key matches /${re.source}/`;
  for (const re of mapping.forbids) {
    const k = keys.find((key) => re.test(key));
    if (k) return `key '${k}' matches forbidden /${re.source}/`;
  }
  return undefined;
}

function scoreOf(plan: MappingPlan, sourceCount: number): number {
  const considered = sourceCount - plan.ignored.length;
  const loaded = plan.totalElements > 0 ? plan.loadedElements / plan.totalElements : 0;
  const unexpected = considered > 0 ? plan.unexpected.length / considered : 0;
  // Tie-break: of two mappings that load the whole model, prefer the one that uses more of the file
  // (a full detector over its backbone alone).
  const used = sourceCount > 0 ? plan.matched.length / sourceCount : 0;
  return loaded - 0.5 * unexpected - (plan.conflicts.length > 0 ? 1 : 0) + 0.01 * used;
}

/** Like scoreOf, but by parameter names claimed (whatever their shapes): independent of widths. */
function nameScoreOf(plan: MappingPlan, sourceCount: number): number {
  const total = plan.matched.length + plan.mismatched.length + plan.missing.length;
  const claimed = total > 0 ? (plan.matched.length + plan.mismatched.length) / total : 0;
  const considered = sourceCount - plan.ignored.length;
  return claimed - 0.5 * (considered > 0 ? plan.unexpected.length / considered : 0) - (plan.conflicts.length > 0 ? 1 : 0);
}

function perfect(plan: MappingPlan): boolean {
  return plan.missing.length + plan.mismatched.length + plan.unexpected.length + plan.conflicts.length === 0;
}

/**
 * Why a candidate whose every option set failed to build was refused because of the user's options
 * (it builds without them), or undefined when the user's options are not the reason.
 */
function userOptionsFailure(mapping: Mapping, model: string, sources: SourceSpec[], user: ModelOptions, describe: DescribeModel, error: Error | undefined): string | undefined {
  if (Object.keys(user).length === 0 || !error) return undefined;
  const builds = (options: ModelOptions) => {
    try {
      describe(model, options);
      return true;
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      return false;
    }
  };
  if (!optionCandidates(mapping, model, sources, {}).some(builds)) return undefined;
  const set = Object.entries(user).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
  return `--set ${set}: ${error.message} (candidate ${mapping.name} → ${model})`;
}

export interface DetectOptions {
  /** Only consider targets for this model. */
  model?: string;
  /** Options the user set; they override the mapping's facts and are never searched. */
  options?: ModelOptions;
  /** Use these mappings without requiring their fingerprint (`--mapping`). */
  forced?: boolean;
}

/**
 * Picks the best mapping for `sources`. Throws InputError when no mapping targets the model, or
 * when every candidate model failed to build.
 */
export function detectMapping(sources: SourceSpec[], mappings: Mapping[], describe: DescribeModel, opts: DetectOptions = {}): Detection {
  const keys = sources.map((s) => s.key);
  const user = opts.options ?? {};
  const ranked: CandidateSummary[] = [];
  let best: Candidate | undefined;
  let lastError: Error | undefined;
  const cache: ResolutionCache = new Map();
  const tryCandidate = (mapping: Mapping, model: string, options: ModelOptions): Candidate | undefined => {
    let description: ModelDescription;
    try {
      description = describe(model, options);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      lastError = err;
      return undefined;
    }
    const plan = planMapping(sources, description.specs, mapping, model, cache);
    return { mapping, model, options, description, plan, score: scoreOf(plan, sources.length) };
  };
  // Phase 1: each (mapping, target) at its first option set; the name-level score does not depend
  // on widths, so only the targets with the best one go on to search the option candidates.
  const refused: Array<{ mapping: string; model: string; message: string }> = [];
  const trials: Array<{ mapping: Mapping; model: string; combos: ModelOptions[]; first?: Candidate; nameScore: number }> = [];
  for (const mapping of mappings) {
    const targets = mapping.targets.filter((t) => !opts.model || t.model === opts.model);
    if (opts.forced && opts.model && targets.length === 0) {
      targets.push({ model: opts.model, modelOptions: mapping.modelOptions, tables: mapping.tables });
    }
    const failure = opts.forced ? undefined : fingerprintFailure(mapping, keys);
    for (const target of targets) {
      if (failure) {
        ranked.push({ mapping: mapping.name, model: target.model, loadedShare: 0, unexpected: 0, score: -Infinity, skipped: failure });
        continue;
      }
      const combos = optionCandidates(mapping, target.model, sources, user);
      const trial = { mapping, model: target.model, combos, first: undefined as Candidate | undefined, nameScore: -Infinity };
      while (!trial.first && trial.combos.length > 0) {
        trial.first = tryCandidate(mapping, target.model, trial.combos.shift()!);
      }
      if (trial.first) trial.nameScore = nameScoreOf(trial.first.plan, sources.length);
      const refusal = trial.first ? undefined : userOptionsFailure(mapping, target.model, sources, user, describe, lastError);
      if (refusal) {
        refused.push({ mapping: mapping.name, model: target.model, message: refusal });
        ranked.push({ mapping: mapping.name, model: target.model, loadedShare: 0, unexpected: 0, score: -Infinity, skipped: refusal });
      }
      trials.push(trial);
    }
  }
  // A candidate the user's options broke is the error when, without those options, it is the one
  // detection would pick (or nothing else builds): the options were meant for it.
  if (refused.length > 0) {
    const plain = detectMapping(sources, mappings, describe, { ...opts, options: {} }).best;
    const meant = refused.find((r) => r.mapping === plain.mapping.name && r.model === plain.model);
    if (meant || !trials.some((t) => t.first)) throw new InputError(`${(meant ?? refused[0]).message}${opts.model ? '' : '; --model names the model they are for'}`);
  }
  const bestNameScore = Math.max(...trials.map((t) => t.nameScore));
  for (const trial of trials) {
    let top = trial.first;
    if (!top) continue;
    if (trial.nameScore >= bestNameScore - 1e-9 && !perfect(top.plan)) {
      for (const options of trial.combos) {
        const c = tryCandidate(trial.mapping, trial.model, options);
        if (!c) continue;
        if (c.score > top.score) top = c;
        if (perfect(c.plan)) break;
      }
    }
    ranked.push({
      mapping: trial.mapping.name, model: top.model, score: top.score, unexpected: top.plan.unexpected.length,
      loadedShare: top.plan.totalElements ? top.plan.loadedElements / top.plan.totalElements : 0,
    });
    if (!best || top.score > best.score) best = top;
  }
  if (!best) {
    if (lastError) throw lastError;
    const names = mappings.map((m) => m.name).join(', ');
    throw new InputError(opts.model ? `no mapping targets model '${opts.model}' (mappings: ${names})` : `no mapping matches this checkpoint (mappings: ${names})`);
  }
  ranked.sort((a, b) => b.score - a.score);
  return { best, ranked, forced: opts.forced ?? false };
}
