// The mapping engine: resolves every source key through a mapping (ignore → include → rules), then
// checks each claimed target against the model's declared parameters. Works on names and shapes
// only (no tensor data, no TF.js), so `diff` and auto-detection are cheap.
import type { DType } from '../checkpoint/types.js';
import type { ParamKind, ParamSpec } from './params.js';
import { planLayout } from './layout.js';
import { capturesOf, fillTemplate, type Tables, type Template } from './template.js';
import type { IgnoreRule, Mapping, RenameRule } from './types.js';

/** What the engine needs to know about a source tensor. */
export interface SourceSpec {
  key: string;
  shape: number[];
  dtype: DType;
}

export interface MatchedEntry {
  source: string;
  target: string;
  rule: string;
  kind: ParamKind;
  sourceShape: number[];
  /** Shape in the model (TF.js layout), equal to the converted source shape. */
  shape: number[];
  dtype: DType;
}

export interface MismatchEntry {
  source: string;
  target: string;
  rule: string;
  kind: ParamKind;
  sourceShape: number[];
  /** The converted source shape, when the layout conversion applies at all. */
  convertedShape: number[] | null;
  expectedShape: number[];
  dtype: DType;
  reason: string;
}

export interface UnexpectedEntry {
  source: string;
  shape: number[];
  dtype: DType;
  /** Set when a rule renamed the key to a name the model does not have. */
  rule?: string;
  target?: string;
}

export interface IgnoredEntry {
  source: string;
  shape: number[];
  rule: string;
  reason: string;
}

export interface MissingEntry {
  target: string;
  shape: number[];
  kind: ParamKind;
}

export interface ConflictEntry {
  target: string;
  sources: string[];
  rules: string[];
}

export interface MappingPlan {
  matched: MatchedEntry[];
  mismatched: MismatchEntry[];
  unexpected: UnexpectedEntry[];
  ignored: IgnoredEntry[];
  missing: MissingEntry[];
  conflicts: ConflictEntry[];
  /** Rule ids (qualified) that matched no key. */
  unusedRules: string[];
  /** Elements of the model's parameters that were matched, and in total. */
  loadedElements: number;
  totalElements: number;
}

export type Resolution =
  | { kind: 'ignored'; rule: IgnoreRule }
  | { kind: 'mapped'; rule: RenameRule; target: string }
  | { kind: 'none' };

/** One level of a resolution: the key as `mapping` saw it, under targets prefixed `targetPrefix`. */
export interface ResolutionStep {
  mapping: Mapping;
  key: string;
  targetPrefix: string;
}

interface Scope {
  mapping: Mapping;
  tables: Tables;
  targetPrefix: string;
}

const FLOAT_TYPES: ReadonlySet<DType> = new Set(['float32', 'float16', 'bfloat16', 'float64']);

export function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The tables a mapping uses when loading into `model` (its matching target's, else its own). */
export function tablesFor(mapping: Mapping, model: string): Tables {
  const target = mapping.targets.find((t) => t.model === model) ?? (mapping.targets.length === 1 ? mapping.targets[0] : undefined);
  return target?.tables ?? mapping.tables;
}

/** Every rule id of a mapping tree, qualified, in resolution order. */
export function allRuleIds(mapping: Mapping): string[] {
  return [...mapping.ignore.map((r) => r.id), ...mapping.includes.flatMap((i) => allRuleIds(i.mapping)), ...mapping.rules.map((r) => r.id)];
}

class Resolver {
  readonly hits = new Map<string, number>();

  constructor(private readonly has: (name: string) => boolean, private readonly model: string) {}

  private conditionsHold(rule: IgnoreRule | RenameRule, caps: Record<string, string | undefined>, scope: Scope): boolean {
    const check = (t: Template | undefined, want: boolean): boolean => {
      if (!t) return true;
      const name = fillTemplate(t, caps, scope.tables);
      return name !== undefined && this.has(scope.targetPrefix + name) === want;
    };
    return check(rule.ifTarget, true) && check(rule.unlessTarget, false);
  }

  private hit(id: string): void {
    this.hits.set(id, (this.hits.get(id) ?? 0) + 1);
  }

  /** `path`, when given, receives the (mapping, key) of every level that led to the result. */
  resolve(key: string, scope: Scope, path?: ResolutionStep[]): Resolution {
    path?.push({ mapping: scope.mapping, key, targetPrefix: scope.targetPrefix });
    for (const rule of scope.mapping.ignore) {
      const m = rule.from.exec(key);
      if (m && this.conditionsHold(rule, capturesOf(m), scope)) {
        this.hit(rule.id);
        return { kind: 'ignored', rule };
      }
    }
    for (const inc of scope.mapping.includes) {
      if (!key.startsWith(inc.sourcePrefix)) continue;
      const inner = inc.replaceWith + key.slice(inc.sourcePrefix.length);
      const tables = tablesFor(inc.mapping, inc.target ?? this.model);
      const mark = path?.length ?? 0;
      const r = this.resolve(inner, { mapping: inc.mapping, tables, targetPrefix: scope.targetPrefix + inc.targetPrefix }, path);
      if (r.kind === 'mapped') return { ...r, target: inc.targetPrefix + r.target };
      if (r.kind === 'ignored') return r;
      if (path) path.length = mark;
    }
    for (const rule of scope.mapping.rules) {
      const m = rule.from.exec(key);
      if (!m) continue;
      const caps = capturesOf(m);
      if (!this.conditionsHold(rule, caps, scope)) continue;
      const target = fillTemplate(rule.to, caps, scope.tables);
      if (target === undefined) continue;
      this.hit(rule.id);
      return { kind: 'mapped', rule, target };
    }
    return { kind: 'none' };
  }
}

/**
 * Resolves one key through `mapping` for `model` (whose parameter names are `names`), with the
 * levels it passed through (the key as each included mapping saw it).
 */
export function resolveKey(key: string, mapping: Mapping, model: string, names: ReadonlySet<string>): { resolution: Resolution; path: ResolutionStep[] } {
  const path: ResolutionStep[] = [];
  const resolution = new Resolver((n) => names.has(n), model).resolve(key, { mapping, tables: tablesFor(mapping, model), targetPrefix: '' }, path);
  return { resolution, path };
}

interface Resolved {
  resolutions: Resolution[];
  unusedRules: string[];
}

/**
 * Memo of key resolutions: they depend only on the mapping, the model and the set of parameter
 * names (conditions test names), so option candidates that differ only in shapes share them.
 */
export type ResolutionCache = Map<string, Resolved>;

function resolveAll(sources: SourceSpec[], names: Set<string>, mapping: Mapping, model: string, cache?: ResolutionCache): Resolved {
  const id = cache ? `${mapping.file}\u0000${model}\u0000${[...names].join('\n')}` : '';
  const cached = cache?.get(id);
  if (cached) return cached;
  const resolver = new Resolver((n) => names.has(n), model);
  const scope: Scope = { mapping, tables: tablesFor(mapping, model), targetPrefix: '' };
  const resolutions = sources.map((src) => resolver.resolve(src.key, scope));
  const resolved = { resolutions, unusedRules: allRuleIds(mapping).filter((rid) => !resolver.hits.has(rid)) };
  cache?.set(id, resolved);
  return resolved;
}

/**
 * Plans loading `sources` into a model with parameters `specs` through `mapping`, loading into
 * model `model` (selects the mapping's tables for that target).
 */
export function planMapping(sources: SourceSpec[], specs: ParamSpec[], mapping: Mapping, model: string, cache?: ResolutionCache): MappingPlan {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const { resolutions, unusedRules } = resolveAll(sources, new Set(byName.keys()), mapping, model, cache);
  const plan: MappingPlan = {
    matched: [], mismatched: [], unexpected: [], ignored: [], missing: [], conflicts: [], unusedRules,
    loadedElements: 0, totalElements: specs.reduce((a, s) => a + numel(s.shape), 0),
  };
  const claims = new Map<string, { sources: string[]; rules: string[] }>();
  sources.forEach((src, i) => {
    const r = resolutions[i];
    if (r.kind === 'ignored') {
      plan.ignored.push({ source: src.key, shape: src.shape, rule: r.rule.id, reason: r.rule.reason });
      return;
    }
    if (r.kind === 'none') {
      plan.unexpected.push({ source: src.key, shape: src.shape, dtype: src.dtype });
      return;
    }
    const spec = byName.get(r.target);
    if (!spec) {
      plan.unexpected.push({ source: src.key, shape: src.shape, dtype: src.dtype, rule: r.rule.id, target: r.target });
      return;
    }
    const claim = claims.get(r.target) ?? { sources: [], rules: [] };
    claim.sources.push(src.key);
    claim.rules.push(r.rule.id);
    claims.set(r.target, claim);
    const layout = planLayout(spec.kind, src.shape);
    const converted = 'error' in layout ? null : layout.shape;
    const sameShape = converted !== null && converted.length === spec.shape.length && converted.every((d, i) => d === spec.shape[i]);
    const base = { source: src.key, target: r.target, rule: r.rule.id, kind: spec.kind, sourceShape: src.shape, dtype: src.dtype };
    if (!FLOAT_TYPES.has(src.dtype)) {
      plan.mismatched.push({ ...base, convertedShape: converted, expectedShape: spec.shape, reason: `dtype ${src.dtype} cannot load into a float32 parameter` });
    } else if ('error' in layout) {
      plan.mismatched.push({ ...base, convertedShape: null, expectedShape: spec.shape, reason: layout.error });
    } else if (!sameShape) {
      plan.mismatched.push({ ...base, convertedShape: converted, expectedShape: spec.shape, reason: `converted shape [${converted!.join(', ')}] differs from the model's [${spec.shape.join(', ')}]` });
    } else {
      plan.matched.push({ ...base, shape: spec.shape });
    }
  });
  for (const [target, claim] of claims) {
    if (claim.sources.length > 1) plan.conflicts.push({ target, ...claim });
  }
  const conflicted = new Set(plan.conflicts.map((c) => c.target));
  if (conflicted.size > 0) {
    plan.matched = plan.matched.filter((m) => !conflicted.has(m.target));
    plan.mismatched = plan.mismatched.filter((m) => !conflicted.has(m.target));
  }
  const claimed = new Set([...plan.matched, ...plan.mismatched].map((m) => m.target));
  for (const s of specs) {
    if (!claimed.has(s.name) && !conflicted.has(s.name)) plan.missing.push({ target: s.name, shape: s.shape, kind: s.kind });
  }
  plan.loadedElements = plan.matched.reduce((a, m) => a + numel(m.shape), 0);
  return plan;
}
