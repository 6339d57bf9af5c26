// Suggestions for keys left unmatched: pair each unexpected source key with a missing model
// parameter of the same converted shape and the most similar name, and write the pair as a rule
// that can be pasted into a mapping file. Pairs that differ only in the same block numbers are
// merged into one rule with captures.
import { planLayout } from './layout.js';
import type { MappingPlan } from './plan.js';

export interface SuggestedRule {
  id: string;
  from: string;
  to: string;
}

export interface Suggestion {
  source: string;
  target: string;
  shape: number[];
  /** Name similarity in [0, 1]. */
  confidence: number;
}

export interface SuggestionGroup {
  /** The pairs this rule covers. */
  pairs: Suggestion[];
  rule: SuggestedRule;
}

/** Below this name similarity a same-shape pair is a coincidence, not a suggestion. */
const MIN_CONFIDENCE = 0.5;

function moduleTokens(key: string): Set<string> {
  const segs = key.split('.').slice(0, -1);
  return new Set(segs.flatMap((s) => s.split('_')).map((t) => t.replace(/\d+/g, '')).filter((t) => t.length > 0));
}

function numbersOf(key: string): number[] {
  return key.split('.').filter((s) => /^\d+$/.test(s)).map(Number);
}

function similarity(a: string, b: string): number {
  if (a.split('.').pop() !== b.split('.').pop()) return 0;
  // A token counts as shared when the other name contains it (so `dwconv` meets `dw.conv`).
  const ta = [...moduleTokens(a)];
  const tb = [...moduleTokens(b)];
  const ja = ta.join('');
  const jb = tb.join('');
  const shared = ta.filter((t) => jb.includes(t)).length + tb.filter((t) => ja.includes(t)).length;
  const tokens = ta.length + tb.length > 0 ? shared / (ta.length + tb.length) : 1;
  const na = numbersOf(a);
  const nb = numbersOf(b);
  const numbers = na.length + nb.length === 0 ? 1 : nb.filter((n) => na.includes(n)).length / Math.max(na.length, nb.length);
  return 0.7 * tokens + 0.3 * numbers;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A rule for one pair: numbers the target repeats from the source become captures, others stay literal. */
function generalise(source: string, target: string): { from: string; to: string } {
  const srcSegs = source.split('.');
  const tgtSegs = target.split('.');
  const captureAt = new Map<number, string>(); // source segment index → capture name
  const to = tgtSegs.map((seg) => {
    if (!/^\d+$/.test(seg)) return seg;
    const at = srcSegs.findIndex((s) => s === seg);
    if (at < 0) return seg;
    if (!captureAt.has(at)) captureAt.set(at, `n${captureAt.size}`);
    return `{${captureAt.get(at)}}`;
  });
  const from = srcSegs.map((seg, i) => (captureAt.has(i) ? `(?<${captureAt.get(i)}>\\d+)` : escapeRegex(seg)));
  return { from: `^${from.join('\\.')}$`, to: to.join('.') };
}

/** Pairs unmatched keys of a plan by shape and name; one ready-to-paste rule per group of pairs. */
export function suggestRules(plan: MappingPlan): SuggestionGroup[] {
  const candidates: Suggestion[] = [];
  for (const u of plan.unexpected) {
    for (const m of plan.missing) {
      const layout = planLayout(m.kind, u.shape);
      if ('error' in layout || layout.shape.join() !== m.shape.join()) continue;
      const confidence = similarity(u.source, m.target);
      if (confidence >= MIN_CONFIDENCE) candidates.push({ source: u.source, target: m.target, shape: m.shape, confidence });
    }
  }
  candidates.sort((a, b) => b.confidence - a.confidence);
  const usedSources = new Set<string>();
  const usedTargets = new Set<string>();
  const chosen: Suggestion[] = [];
  for (const c of candidates) {
    if (usedSources.has(c.source) || usedTargets.has(c.target)) continue;
    usedSources.add(c.source);
    usedTargets.add(c.target);
    chosen.push(c);
  }
  const groups = new Map<string, SuggestionGroup>();
  for (const s of chosen) {
    const rule = generalise(s.source, s.target);
    const id = `${rule.from}\u0000${rule.to}`;
    const g = groups.get(id) ?? { pairs: [], rule: { id: `suggested-${groups.size + 1}`, ...rule } };
    g.pairs.push(s);
    groups.set(id, g);
  }
  // A rule with captures that covers only one pair is clearer spelled out.
  return [...groups.values()].map((g) =>
    g.pairs.length > 1 ? g : { ...g, rule: { id: g.rule.id, from: `^${escapeRegex(g.pairs[0].source)}$`, to: g.pairs[0].target } },
  );
}
