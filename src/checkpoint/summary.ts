// What `inspect` reports about a state dict: totals by dtype, and numbered keys collapsed into groups
// (`features.{1..15}.block.*`) so a 300-key state dict stays readable.
import { DTYPE_BYTES } from './dtype.js';
import type { DType, StateDict } from './types.js';

export interface DTypeTotals { tensors: number; numel: number; bytes: number }

export interface StateDictSummary {
  tensors: number;
  /** Elements across all tensors (what "number of parameters" usually means). */
  parameters: number;
  bytes: number;
  byDtype: Partial<Record<DType, DTypeTotals>>;
}

export const numelOf = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

export function summarise(sd: StateDict): StateDictSummary {
  const s: StateDictSummary = { tensors: 0, parameters: 0, bytes: 0, byDtype: {} };
  for (const t of sd.values()) {
    const numel = numelOf(t.shape);
    const bytes = numel * DTYPE_BYTES[t.dtype];
    const d = (s.byDtype[t.dtype] ??= { tensors: 0, numel: 0, bytes: 0 });
    d.tensors++;
    d.numel += numel;
    d.bytes += bytes;
    s.tensors++;
    s.parameters += numel;
    s.bytes += bytes;
  }
  return s;
}

export interface KeyGroup {
  /** e.g. `features.{1..15}.block.*`, or the key itself for a group of one. */
  pattern: string;
  keys: string[];
}

/** `[1,2,3,4,7]` → `1..4,7`. */
function ranges(indices: number[]): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    if (j - i >= 2) parts.push(`${sorted[i]}..${sorted[j]}`);
    else for (let k = i; k <= j; k++) parts.push(String(sorted[k]));
    i = j + 1;
  }
  return parts.join(',');
}

/**
 * Groups keys on their first numeric segment: `features.3.block.0.weight` joins
 * `features.{N}.block.*`, `classifier.0.weight` joins `classifier.{N}.*`. Keys without a number,
 * and groups of one key, stay as they are. Groups keep first-appearance order.
 */
export function groupKeys(keys: Iterable<string>): KeyGroup[] {
  const groups = new Map<string, { keys: string[]; indices: number[]; head: string; tail: string }>();
  for (const key of keys) {
    const segs = key.split('.');
    const i = segs.findIndex((s) => /^\d+$/.test(s));
    let id = key;
    let head = '';
    let tail = '';
    if (i >= 0 && i < segs.length - 1) {
      head = segs.slice(0, i).join('.');
      tail = i + 1 === segs.length - 1 ? '*' : `${segs[i + 1]}.*`;
      id = `${head}\n${tail}`;
    }
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { keys: [], indices: [], head, tail }));
    g.keys.push(key);
    if (tail) g.indices.push(Number(segs[i]));
  }
  return [...groups.values()].map((g) => {
    if (!g.tail || g.keys.length === 1) return { pattern: g.keys[0], keys: g.keys };
    const idx = ranges(g.indices);
    const n = idx.includes(',') || idx.includes('..') ? `{${idx}}` : idx;
    return { pattern: `${g.head ? `${g.head}.` : ''}${n}.${g.tail}`, keys: g.keys };
  });
}
