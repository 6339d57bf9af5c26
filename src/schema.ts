// A small schema checker for config objects. Every problem is reported with its key path in the
// `--cfg-options` spelling (`model.backbone.outIndices.2`) and what would have been allowed, so a
// user can fix it from the message alone. Unknown keys are errors, with the closest known key.

import { closestName } from './registry.js';

export type Schema =
  | { kind: 'number'; integer?: boolean; min?: number; max?: number; exclusiveMin?: boolean }
  | { kind: 'string'; nonEmpty?: boolean }
  | { kind: 'boolean' }
  | { kind: 'literal'; values: readonly (string | number | boolean | null)[] }
  | { kind: 'array'; items: Schema; minItems?: number; maxItems?: number }
  | { kind: 'tuple'; items: readonly Schema[] }
  | { kind: 'object'; fields: Readonly<Record<string, Field>>; open?: boolean }
  | { kind: 'record'; values: Schema }
  | { kind: 'union'; options: readonly Schema[] }
  | { kind: 'any' };

export interface Field {
  schema: Schema;
  optional?: boolean;
}

export interface SchemaProblem {
  /** Dotted key path, list indices as numbers: `data.train.pipeline.1.prob`. */
  path: string;
  message: string;
}

// Builders, so schemas read like the configs they check.
export const num = (o: Omit<Extract<Schema, { kind: 'number' }>, 'kind'> = {}): Schema => ({ kind: 'number', ...o });
export const int = (o: { min?: number; max?: number } = {}): Schema => ({ kind: 'number', integer: true, ...o });
export const str = (o: { nonEmpty?: boolean } = {}): Schema => ({ kind: 'string', ...o });
export const bool = (): Schema => ({ kind: 'boolean' });
export const literal = (...values: (string | number | boolean | null)[]): Schema => ({ kind: 'literal', values });
export const arr = (items: Schema, o: { minItems?: number; maxItems?: number } = {}): Schema => ({ kind: 'array', items, ...o });
export const tuple = (...items: Schema[]): Schema => ({ kind: 'tuple', items });
export const obj = (fields: Record<string, Schema | Field>, o: { open?: boolean } = {}): Schema => ({
  kind: 'object',
  fields: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, 'schema' in v ? v : { schema: v }])),
  ...o,
});
export const record = (values: Schema): Schema => ({ kind: 'record', values });
export const union = (...options: Schema[]): Schema => ({ kind: 'union', options });
export const any = (): Schema => ({ kind: 'any' });
export const optional = (schema: Schema): Field => ({ schema, optional: true });

/** One line saying what a schema accepts, for error messages. */
export function describeSchema(s: Schema): string {
  switch (s.kind) {
    case 'number': {
      const what = s.integer ? 'an integer' : 'a number';
      const lo = s.min === undefined ? '' : `${s.exclusiveMin ? '>' : '>='} ${s.min}`;
      const hi = s.max === undefined ? '' : `<= ${s.max}`;
      const range = [lo, hi].filter(Boolean).join(' and ');
      return range ? `${what} ${range}` : what;
    }
    case 'string':
      return s.nonEmpty ? 'a non-empty string' : 'a string';
    case 'boolean':
      return 'true or false';
    case 'literal':
      return `one of ${s.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'array': {
      const item = describeSchema(s.items);
      const plural = item.replace(/^an? (non-empty )?(number|integer|string)/, (_, ne: string | undefined, noun: string) => `${ne ?? ''}${noun}s`);
      return plural !== item ? `a list of ${plural}` : `a list, each item ${item}`;
    }
    case 'tuple':
      return `a list of ${s.items.length}: [${s.items.map(describeSchema).join(', ')}]`;
    case 'object':
      return `an object with keys ${Object.keys(s.fields).join(', ')}`;
    case 'record':
      return 'an object';
    case 'union':
      return s.options.map(describeSchema).join(', or ');
    case 'any':
      return 'anything';
  }
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object' && value !== null) return 'an object';
  return String(value);
}

function join(path: string, key: string | number): string {
  return path ? `${path}.${key}` : String(key);
}

/** Checks `value` against `schema`; returns every problem found (empty when valid). */
export function checkSchema(value: unknown, schema: Schema, path = ''): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const fail = (): SchemaProblem[] => [{ path, message: `expected ${describeSchema(schema)}, got ${show(value)}` }];
  switch (schema.kind) {
    case 'any':
      return problems;
    case 'number': {
      if (typeof value !== 'number' || Number.isNaN(value)) return fail();
      if (schema.integer && !Number.isInteger(value)) return fail();
      if (schema.min !== undefined && (schema.exclusiveMin ? value <= schema.min : value < schema.min)) return fail();
      if (schema.max !== undefined && value > schema.max) return fail();
      return problems;
    }
    case 'string':
      if (typeof value !== 'string' || (schema.nonEmpty && value === '')) return fail();
      return problems;
    case 'boolean':
      return typeof value === 'boolean' ? problems : fail();
    case 'literal':
      return schema.values.includes(value as string) ? problems : fail();
    case 'array': {
      if (!Array.isArray(value)) return fail();
      if (schema.minItems !== undefined && value.length < schema.minItems) {
        return [{ path, message: `expected at least ${schema.minItems} item(s), got ${value.length}` }];
      }
      if (schema.maxItems !== undefined && value.length > schema.maxItems) {
        return [{ path, message: `expected at most ${schema.maxItems} item(s), got ${value.length}` }];
      }
      value.forEach((item, i) => problems.push(...checkSchema(item, schema.items, join(path, i))));
      return problems;
    }
    case 'tuple': {
      if (!Array.isArray(value) || value.length !== schema.items.length) return fail();
      value.forEach((item, i) => problems.push(...checkSchema(item, schema.items[i], join(path, i))));
      return problems;
    }
    case 'record': {
      if (!isPlainObject(value)) return fail();
      for (const [k, v] of Object.entries(value)) problems.push(...checkSchema(v, schema.values, join(path, k)));
      return problems;
    }
    case 'object': {
      if (!isPlainObject(value)) return fail();
      const known = Object.keys(schema.fields);
      for (const [key, field] of Object.entries(schema.fields)) {
        const v = value[key];
        if (v === undefined) {
          if (!field.optional) problems.push({ path: join(path, key), message: `is required: ${describeSchema(field.schema)}` });
          continue;
        }
        problems.push(...checkSchema(v, field.schema, join(path, key)));
      }
      if (!schema.open) {
        for (const key of Object.keys(value)) {
          if (key in schema.fields) continue;
          const near = closestName(key, known, Math.max(2, Math.floor(key.length / 3)));
          problems.push({
            path: join(path, key),
            message: `unknown key${near ? ` (did you mean '${near}'?)` : ''}; allowed: ${known.join(', ')}`,
          });
        }
      }
      return problems;
    }
    case 'union': {
      // Valid when any option accepts it; otherwise report the option that got furthest (fewest
      // problems, object options preferred when the value is an object).
      let best: SchemaProblem[] | undefined;
      for (const option of schema.options) {
        const p = checkSchema(value, option, path);
        if (p.length === 0) return problems;
        const shapeMatches = (option.kind === 'object') === isPlainObject(value);
        if (shapeMatches && (best === undefined || p.length < best.length)) best = p;
      }
      return best && isPlainObject(value) ? best : fail();
    }
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
