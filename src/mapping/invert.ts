// The two halves of running a rename rule backwards: which captures make a rule's `to` template
// produce a given name (invertTemplate), and which keys its `from` regex accepts with those captures
// (fillPattern). Both enumerate every possibility in a fixed order of preference (see
// mappings/README.md, "Export"); the caller keeps the ones that resolve forward to the same name.
import type { Captures, Tables, Template, TemplateExpr } from './template.js';

/** Captures that give `name` when the template is filled, in order of preference. */
export function invertTemplate(t: Template, name: string, tables: Tables): Captures[] {
  const out: Captures[] = [];
  const { parts } = t;
  const walk = (i: number, pos: number, caps: Captures): void => {
    if (i === parts.length) {
      if (pos === name.length) out.push(caps);
      return;
    }
    const p = parts[i];
    if (typeof p === 'string') {
      if (name.startsWith(p, pos)) walk(i + 1, pos + p.length, caps);
      return;
    }
    // An expression's text runs up to where the next literal part matches (or to the end).
    const next = parts[i + 1];
    for (let end = pos + 1; end <= name.length; end++) {
      if (typeof next === 'string' && !name.startsWith(next, end)) continue;
      if (next === undefined && end !== name.length) continue;
      for (const c of solve(p, name.slice(pos, end), caps, tables)) walk(i + 1, end, c);
    }
  };
  walk(0, 0, {});
  return out;
}

const isInt = (v: string) => /^(0|[1-9]\d*)$/.test(v);

/** Values of an expression that involves unknown captures: every table entry, with its captures. */
function enumerate(e: TemplateExpr, caps: Captures, tables: Tables): Array<{ value: string; caps: Captures }> {
  if (e.op === 'num') return [{ value: String(e.value), caps }];
  if (e.op === 'ref') {
    if (e.name in caps) return [{ value: caps[e.name] as string, caps }];
    const t = tables[e.name];
    return typeof t === 'number' || typeof t === 'string' ? [{ value: String(t), caps }] : [];
  }
  if (e.op === 'index') {
    const table = tables[e.table];
    if (table === undefined || typeof table !== 'object') return [];
    const entries: Array<[string, number | string]> = Array.isArray(table) ? table.map((v, i) => [String(i), v]) : Object.entries(table);
    return entries.flatMap(([k, v]) => solve(e.index, k, caps, tables).map((c) => ({ value: String(v), caps: c })));
  }
  return [];
}

/** Captures (extending `caps`) for which expression `e` evaluates to `value`. */
function solve(e: TemplateExpr, value: string, caps: Captures, tables: Tables): Captures[] {
  switch (e.op) {
    case 'num':
      return String(e.value) === value ? [caps] : [];
    case 'ref': {
      if (e.name in caps) return caps[e.name] === value ? [caps] : [];
      const t = tables[e.name];
      if (typeof t === 'number' || typeof t === 'string') return String(t) === value ? [caps] : [];
      return [{ ...caps, [e.name]: value }];
    }
    case 'index':
      return enumerate(e, caps, tables).filter((x) => x.value === value).map((x) => x.caps);
    case 'bin': {
      if (!isInt(value)) return [];
      const v = Number(value);
      const out: Array<{ caps: Captures; free: number }> = [];
      // One side is enumerated (a table lookup or a known value), the other solved for the rest;
      // smaller remainders first (timm's `start[s] + j`: the stage that starts closest below).
      for (const [known, unknown, side] of [[e.left, e.right, 'right'], [e.right, e.left, 'left']] as const) {
        for (const k of enumerate(known, caps, tables)) {
          if (!isInt(k.value)) continue;
          const kv = Number(k.value);
          let rest: number;
          if (e.sign === '+') rest = v - kv;
          else if (e.sign === '-') rest = side === 'right' ? kv - v : v + kv;
          else if (kv !== 0 && v % kv === 0) rest = v / kv;
          else continue;
          if (rest < 0) continue;
          for (const c of solve(unknown, String(rest), k.caps, tables)) out.push({ caps: c, free: rest });
        }
        if (out.length > 0) break;
      }
      return out.sort((a, b) => a.free - b.free).map((x) => x.caps);
    }
  }
}

/** One key a pattern accepts; `free` marks digits the pattern left open (no capture fixed them). */
export interface FilledKey {
  key: string;
  free: Array<{ start: number; end: number }>;
}

type Node =
  | { t: 'lit'; text: string }
  | { t: 'set'; chars: string[] }
  | { t: 'digits' }
  | { t: 'group'; name?: string; index?: number; alts: Node[][] }
  | { t: 'opt'; node: Node }
  | { t: 'plus'; node: Node };

/** Parses the subset of regex syntax mapping files use; anything else makes the rule irreversible. */
function parsePattern(source: string): Node[] | undefined {
  let pos = 0;
  let groupCount = 0;
  const seq = (): Node[][] | undefined => {
    const alts: Node[][] = [[]];
    while (pos < source.length && source[pos] !== ')') {
      const c = source[pos];
      if (c === '|') {
        pos++;
        alts.push([]);
        continue;
      }
      let node: Node | undefined;
      if (c === '^' || c === '$') {
        pos++;
        continue;
      } else if (c === '\\') {
        const n = source[pos + 1];
        pos += 2;
        if (n === 'd') node = { t: 'digits' };
        else if (/[A-Za-z]/.test(n)) return undefined;
        else node = { t: 'lit', text: n };
      } else if (c === '[') {
        const close = source.indexOf(']', pos);
        const body = source.slice(pos + 1, close);
        if (close < 0 || /[\\^]/.test(body)) return undefined;
        const chars: string[] = [];
        for (let i = 0; i < body.length; i++) {
          if (body[i + 1] === '-' && i + 2 < body.length) {
            for (let x = body.charCodeAt(i); x <= body.charCodeAt(i + 2); x++) chars.push(String.fromCharCode(x));
            i += 2;
          } else chars.push(body[i]);
        }
        node = { t: 'set', chars };
        pos = close + 1;
      } else if (c === '(') {
        pos++;
        let name: string | undefined;
        let index: number | undefined;
        if (source.startsWith('?<', pos) && !source.startsWith('?<=', pos) && !source.startsWith('?<!', pos)) {
          const end = source.indexOf('>', pos);
          name = source.slice(pos + 2, end);
          pos = end + 1;
          index = ++groupCount;
        } else if (source.startsWith('?:', pos)) {
          pos += 2;
        } else if (source[pos] === '?') {
          return undefined;
        } else {
          index = ++groupCount;
        }
        const inner = seq();
        if (!inner || source[pos] !== ')') return undefined;
        pos++;
        node = { t: 'group', name, index, alts: inner };
      } else if ('.*+?{}'.includes(c)) {
        return undefined;
      } else {
        pos++;
        node = { t: 'lit', text: c };
      }
      if (source[pos] === '?') {
        pos++;
        node = { t: 'opt', node };
      } else if (source[pos] === '+') {
        pos++;
        node = { t: 'plus', node };
      } else if (source[pos] === '*' || source[pos] === '{') {
        return undefined;
      }
      alts[alts.length - 1].push(node);
    }
    return alts;
  };
  const top = seq();
  if (!top || pos !== source.length) return undefined;
  return [{ t: 'group', alts: top }];
}

/** How many values an open `\d+` may take when nothing fixes it. */
const OPEN_DIGITS = 32;

/**
 * Keys `pattern` accepts whose groups hold the given captures, in order of preference: optional
 * parts present first, alternatives in written order, open digits ascending. Undefined when the
 * pattern uses syntax that cannot be filled (the rule is then not reversible).
 */
export function fillPattern(pattern: RegExp, caps: Captures): FilledKey[] | undefined {
  const nodes = parsePattern(pattern.source);
  if (!nodes) return undefined;
  let partial: FilledKey[] = [{ key: '', free: [] }];
  const emitAll = (list: Node[], inFree: boolean, acc: FilledKey[]): FilledKey[] | undefined => {
    let cur = acc;
    for (const n of list) {
      const next = emit(n, inFree, cur);
      if (!next) return undefined;
      cur = next;
    }
    return cur;
  };
  const append = (acc: FilledKey[], texts: string[], free: boolean): FilledKey[] => acc.flatMap((a) => texts.map((t) => ({
    key: a.key + t,
    free: free ? [...a.free, { start: a.key.length, end: a.key.length + t.length }] : a.free,
  })));
  const emit = (n: Node, inFree: boolean, acc: FilledKey[]): FilledKey[] | undefined => {
    switch (n.t) {
      case 'lit':
        return append(acc, [n.text], false);
      case 'set':
        return append(acc, n.chars, !inFree && n.chars.every((ch) => /\d/.test(ch)));
      case 'digits':
        return append(acc, Array.from({ length: 10 }, (_, i) => String(i)), !inFree);
      case 'plus':
        if (n.node.t === 'digits') return append(acc, Array.from({ length: OPEN_DIGITS }, (_, i) => String(i)), !inFree);
        return emit(n.node, inFree, acc);
      case 'opt': {
        const present = emit(n.node, inFree, acc);
        return present ? [...present, ...acc] : undefined;
      }
      case 'group': {
        const bound = (n.name !== undefined ? caps[n.name] : undefined) ?? (n.index !== undefined ? caps[`$${n.index}`] : undefined);
        if (bound !== undefined) return append(acc, [bound], false);
        const out: FilledKey[] = [];
        for (const alt of n.alts) {
          const r = emitAll(alt, inFree, acc);
          if (!r) return undefined;
          out.push(...r);
        }
        return out;
      }
    }
  };
  partial = emit(nodes[0], false, partial) ?? [];
  return partial.filter((k) => pattern.test(k.key));
}
