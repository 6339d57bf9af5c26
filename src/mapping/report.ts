// The key-diff report: what a checkpoint's keys became under a mapping, as data (`--json`, written
// beside converted weights) and as grouped text for people.
import type { CandidateSummary, Detection } from './detect.js';
import { groupByKey, collapseKeys } from './group.js';
import type { ConflictEntry, IgnoredEntry, MatchedEntry, MismatchEntry, MissingEntry, UnexpectedEntry } from './plan.js';
import { suggestRules, type SuggestionGroup } from './suggest.js';
import type { ModelOptions } from './types.js';

export interface DiffSummary {
  matched: number;
  missing: number;
  unexpected: number;
  shapeMismatch: number;
  ignored: number;
  conflicts: number;
  loadedParams: number;
  totalParams: number;
  /** loadedParams / totalParams (elements, not tensors). */
  loadedShare: number;
  /** Everything the model needs was loaded (no missing, mismatched or conflicting parameter). */
  complete: boolean;
}

export interface DiffReport {
  schemaVersion: 1;
  checkpoint?: string;
  /** What reading and unwrapping did (e.g. "stripped 'module.' from all 312 keys"). */
  notes: string[];
  mapping: { name: string; file: string; description: string; forced: boolean; fingerprintMatched: boolean };
  model: { name: string; options: ModelOptions };
  /** Every mapping considered, best first. */
  candidates: CandidateSummary[];
  summary: DiffSummary;
  matched: MatchedEntry[];
  missing: MissingEntry[];
  unexpected: UnexpectedEntry[];
  shapeMismatch: MismatchEntry[];
  ignored: IgnoredEntry[];
  conflicts: ConflictEntry[];
  unusedRules: string[];
  suggestions: SuggestionGroup[];
}

export function buildReport(detection: Detection, checkpoint?: string, notes: string[] = []): DiffReport {
  const { best } = detection;
  const p = best.plan;
  const complete = p.missing.length + p.mismatched.length + p.conflicts.length === 0;
  return {
    schemaVersion: 1,
    checkpoint,
    notes,
    mapping: {
      name: best.mapping.name, file: best.mapping.file, description: best.mapping.description,
      forced: detection.forced, fingerprintMatched: detection.fingerprintMatched ?? true,
    },
    model: { name: best.model, options: best.options },
    candidates: detection.ranked,
    summary: {
      matched: p.matched.length,
      missing: p.missing.length,
      unexpected: p.unexpected.length,
      shapeMismatch: p.mismatched.length,
      ignored: p.ignored.length,
      conflicts: p.conflicts.length,
      loadedParams: p.loadedElements,
      totalParams: p.totalElements,
      loadedShare: p.totalElements > 0 ? p.loadedElements / p.totalElements : 0,
      complete,
    },
    matched: p.matched,
    missing: p.missing,
    unexpected: p.unexpected,
    shapeMismatch: p.mismatched,
    ignored: p.ignored,
    conflicts: p.conflicts,
    unusedRules: p.unusedRules,
    suggestions: suggestRules(p),
  };
}

const shapeText = (s: number[] | null) => (s ? `[${s.join(', ')}]` : '-');
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function shapesOf(shapes: number[][]): string {
  const distinct = new Set(shapes.map((s) => shapeText(s)));
  return distinct.size === 1 ? [...distinct][0] : `${distinct.size} shapes`;
}

function optionsText(o: ModelOptions): string {
  return Object.entries(o).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ');
}

const leaf = (k: string) => k.slice(k.lastIndexOf('.') + 1);

/** Source keys of matched entries, as `parent.*` when each keeps its target's last name segment. */
function sourcesOf(items: MatchedEntry[]): string {
  if (!items.every((i) => leaf(i.source) === leaf(i.target))) return collapseKeys(items.map((i) => i.source));
  return `${collapseKeys(items.map((i) => i.source.slice(0, i.source.lastIndexOf('.'))))}.*`;
}

/** One-line summary, e.g. `292 matched, 0 missing, ...; loaded 100.0% of the model's parameters`. */
export function summaryLine(s: DiffSummary): string {
  return `${s.matched} matched, ${s.missing} missing, ${s.unexpected} unexpected, ${s.shapeMismatch} shape mismatches, ` +
    `${s.ignored} ignored${s.conflicts ? `, ${s.conflicts} conflicts` : ''}; loaded ${pct(s.loadedShare)} of the model's parameters ` +
    `(${s.loadedParams.toLocaleString('en-US')} of ${s.totalParams.toLocaleString('en-US')})`;
}

/** Lines for one bucket: grouped by key pattern (and rule), or one per key with `all`. */
function section<T>(title: string, items: T[], all: boolean, key: (t: T) => string, line: (label: string, items: T[]) => string, discriminator?: (t: T) => string): string[] {
  if (items.length === 0) return [];
  const out = [`${title} (${items.length}):`];
  if (all) {
    for (const item of items) out.push(`  ${line(key(item), [item])}`);
    return out;
  }
  // Then siblings whose lines differ only in the last name segment: `bn.{weight,bias} [48]`.
  const merged: Array<{ parent: string; leaves: string[]; rest: string }> = [];
  for (const g of groupByKey(items, key, discriminator)) {
    const cut = g.label.lastIndexOf('.');
    const parent = g.label.slice(0, cut + 1);
    const leaf = g.label.slice(cut + 1);
    const rest = line('\u0000', g.items).slice(1);
    const prev = merged[merged.length - 1];
    if (prev && prev.parent === parent && prev.rest === rest && !leaf.includes('{')) prev.leaves.push(leaf);
    else merged.push({ parent, leaves: [leaf], rest });
  }
  for (const m of merged) out.push(`  ${m.parent}${m.leaves.length > 1 ? `{${m.leaves.join(',')}}` : m.leaves[0]}${m.rest}`);
  return out;
}

/** The report as text; `all` lists every key instead of groups. */
export function renderReport(r: DiffReport, all = false): string {
  const lines: string[] = [];
  lines.push(`mapping: ${r.mapping.name}${r.mapping.forced ? ' (forced)' : ''} → ${r.model.name} ${optionsText(r.model.options)}`);
  if (!r.mapping.forced) {
    const others = r.candidates.filter((c) => c.mapping !== r.mapping.name || c.model !== r.model.name).filter((c) => !c.skipped).slice(0, 3);
    const first = r.candidates[0];
    const how = r.mapping.fingerprintMatched
      ? `loads ${pct(first.loadedShare)} of the model, ${first.unexpected} unexpected keys`
      : 'no mapping recognises this checkpoint (no fingerprint matched); the closest one is shown';
    lines.push(`detected: ${how}${others.length ? `; next best: ${others.map((c) => `${c.mapping}→${c.model} ${pct(c.loadedShare)}`).join(', ')}` : ''}`);
  }
  lines.push(`summary: ${summaryLine(r.summary)}`);
  if (r.summary.loadedShare < 0.1 && r.summary.totalParams > 0) {
    lines.push(`note: almost nothing loaded — this checkpoint does not look like a ${r.model.name} in any known layout (wrong architecture, or a layout that needs a mapping file: see mappings/README.md)`);
  }
  const rule = (items: { rule: string }[]) => collapseKeys([...new Set(items.map((i) => i.rule))]);
  lines.push(...section('matched', r.matched, all, (m) => m.target,
    (label, items) => (all
      ? `${label} ${shapeText(items[0].shape)} ← ${items[0].source} ${shapeText(items[0].sourceShape)} [${items[0].rule}]`
      : `${label} ← ${sourcesOf(items)} [${rule(items)}]`),
    (m) => m.rule));
  lines.push(...section('missing (in the model, not in the checkpoint)', r.missing, all, (m) => m.target,
    (label, items) => `${label} ${shapesOf(items.map((i) => i.shape))}`));
  lines.push(...section('unexpected (in the checkpoint, not used)', r.unexpected, all, (u) => u.source,
    (label, items) => {
      const targets = items.filter((i) => i.target);
      const why = targets.length ? ` → ${collapseKeys(targets.map((i) => i.target!))} (no such parameter) [${rule(targets as { rule: string }[])}]` : '';
      return `${label} ${shapesOf(items.map((i) => i.shape))}${why}`;
    }, (u) => u.rule ?? ''));
  lines.push(...section('shape mismatches', r.shapeMismatch, all, (m) => m.source,
    (label, items) => `${label} ${shapesOf(items.map((i) => i.sourceShape))} → ${collapseKeys(items.map((i) => i.target))}: ${items[0].reason}${items.length > 1 ? ' (first of these)' : ''} [${rule(items)}]`,
    (m) => m.rule));
  lines.push(...section('ignored on purpose', r.ignored, all, (i) => i.source,
    (label, items) => `${label}: ${items[0].reason} [${rule(items)}]`, (i) => i.rule));
  for (const c of r.conflicts) lines.push(`conflict: ${c.target} is claimed by ${c.sources.join(', ')} [${c.rules.join(', ')}]`);
  if (r.unusedRules.length) lines.push(`rules that matched nothing: ${r.unusedRules.join(', ')}`);
  if (r.suggestions.length) {
    lines.push(`suggestions (same shape, similar name; paste into a mapping's "rules" after checking):`);
    for (const g of r.suggestions) {
      const first = g.pairs[0];
      const covers = g.pairs.length > 1 ? `${g.pairs.length} keys, e.g. ${first.source} → ${first.target}` : `${first.source} → ${first.target}`;
      lines.push(`  ${covers} ${shapeText(first.shape)} (confidence ${first.confidence.toFixed(2)})`);
      lines.push(`    ${JSON.stringify(g.rule)}`);
    }
  }
  return lines.join('\n');
}
