// Target-name templates of mapping rules: text with `{expression}` holes. An expression is a capture
// (`{p}`, `{$1}`), integer arithmetic (`{i + 1}`), or a table lookup (`{start[s] + j}`); see
// mappings/README.md. A lookup that misses makes the rule not apply to that key (`undefined`).

/** A table from a mapping file: an array (integer index), an object (text key) or a constant. */
export type TableValue = number | string | Array<number | string> | Record<string, number | string>;
export type Tables = Record<string, TableValue>;

type Expr =
  | { op: 'num'; value: number }
  | { op: 'ref'; name: string }
  | { op: 'index'; table: string; index: Expr }
  | { op: 'bin'; sign: '+' | '-' | '*'; left: Expr; right: Expr };

/** A `{...}` hole of a template, parsed (exported for running rules backwards). */
export type TemplateExpr = Expr;

export interface Template {
  source: string;
  parts: Array<string | Expr>;
}

export class TemplateSyntaxError extends Error {}

const TOKEN = /\s*(\d+|\$\d+|[A-Za-z_][A-Za-z0-9_]*|[-+*()[\]])/y;

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    if (/^\s*$/.test(text.slice(TOKEN.lastIndex))) break;
    const start = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (!m) throw new TemplateSyntaxError(`unexpected '${text.slice(start).trim()}' in {${text}}`);
    tokens.push(m[1]);
  }
  return tokens;
}

function parseExpr(text: string): Expr {
  const tokens = tokenize(text);
  let pos = 0;
  const fail = (what: string): never => {
    throw new TemplateSyntaxError(`${what} in {${text}}`);
  };
  const sum = (): Expr => {
    let left = product();
    while (tokens[pos] === '+' || tokens[pos] === '-') {
      const sign = tokens[pos++] as '+' | '-';
      left = { op: 'bin', sign, left, right: product() };
    }
    return left;
  };
  const product = (): Expr => {
    let left = atom();
    while (tokens[pos] === '*') {
      pos++;
      left = { op: 'bin', sign: '*', left, right: atom() };
    }
    return left;
  };
  const atom = (): Expr => {
    const t = tokens[pos++];
    if (t === undefined) return fail('expression ends early');
    if (t === '(') {
      const inner = sum();
      if (tokens[pos++] !== ')') fail("missing ')'");
      return inner;
    }
    if (/^\d+$/.test(t)) return { op: 'num', value: Number(t) };
    if (/^(\$\d+|[A-Za-z_]\w*)$/.test(t)) {
      if (tokens[pos] === '[') {
        if (t.startsWith('$')) fail(`'${t}' is a capture, not a table`);
        pos++;
        const index = sum();
        if (tokens[pos++] !== ']') fail("missing ']'");
        return { op: 'index', table: t, index };
      }
      return { op: 'ref', name: t };
    }
    return fail(`unexpected '${t}'`);
  };
  if (tokens.length === 0) fail('empty expression');
  const expr = sum();
  if (pos !== tokens.length) fail(`unexpected '${tokens[pos]}'`);
  return expr;
}

/** Parses `text` (e.g. `features.{start[s] + j}.dw.conv.weight`); throws TemplateSyntaxError. */
export function parseTemplate(text: string): Template {
  const parts: Template['parts'] = [];
  let rest = text;
  while (rest.length > 0) {
    const open = rest.indexOf('{');
    if (open < 0) {
      parts.push(rest);
      break;
    }
    const close = rest.indexOf('}', open);
    if (close < 0) throw new TemplateSyntaxError(`unclosed '{' in '${text}'`);
    if (open > 0) parts.push(rest.slice(0, open));
    parts.push(parseExpr(rest.slice(open + 1, close)));
    rest = rest.slice(close + 1);
  }
  if (/[{}]/.test(parts.filter((p) => typeof p === 'string').join(''))) {
    throw new TemplateSyntaxError(`unbalanced braces in '${text}'`);
  }
  return { source: text, parts };
}

/** Names a template reads: captures or tables (for load-time checks). */
export function templateNames(t: Template): string[] {
  const names: string[] = [];
  const walk = (e: Expr): void => {
    if (e.op === 'ref') names.push(e.name);
    else if (e.op === 'index') {
      names.push(e.table);
      walk(e.index);
    } else if (e.op === 'bin') {
      walk(e.left);
      walk(e.right);
    }
  };
  for (const p of t.parts) if (typeof p !== 'string') walk(p);
  return names;
}

/** Capture values of one regex match: named groups plus `$1`, `$2`, ... */
export type Captures = Record<string, string | undefined>;

export function capturesOf(m: RegExpExecArray): Captures {
  const caps: Captures = { ...(m.groups ?? {}) };
  for (let i = 1; i < m.length; i++) caps[`$${i}`] = m[i];
  return caps;
}

const MISS = Symbol('miss');

function evaluate(e: Expr, caps: Captures, tables: Tables): number | string | typeof MISS {
  switch (e.op) {
    case 'num':
      return e.value;
    case 'ref': {
      if (e.name in caps) return caps[e.name] ?? MISS;
      const t = tables[e.name];
      return typeof t === 'number' || typeof t === 'string' ? t : MISS;
    }
    case 'index': {
      const table = tables[e.table];
      const key = evaluate(e.index, caps, tables);
      if (key === MISS || table === undefined || typeof table !== 'object') return MISS;
      if (Array.isArray(table)) {
        const i = typeof key === 'number' ? key : /^\d+$/.test(key) ? Number(key) : NaN;
        return Number.isInteger(i) && i >= 0 && i < table.length ? table[i] : MISS;
      }
      const k = String(key);
      return Object.hasOwn(table, k) ? table[k] : MISS;
    }
    case 'bin': {
      const a = toInt(evaluate(e.left, caps, tables));
      const b = toInt(evaluate(e.right, caps, tables));
      if (a === undefined || b === undefined) return MISS;
      return e.sign === '+' ? a + b : e.sign === '-' ? a - b : a * b;
    }
  }
}

function toInt(v: number | string | typeof MISS): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  return undefined;
}

/** Fills the template, or returns undefined when a capture is absent or a lookup misses. */
export function fillTemplate(t: Template, caps: Captures, tables: Tables): string | undefined {
  let out = '';
  for (const p of t.parts) {
    if (typeof p === 'string') {
      out += p;
      continue;
    }
    const v = evaluate(p, caps, tables);
    if (v === MISS) return undefined;
    out += String(v);
  }
  return out;
}
