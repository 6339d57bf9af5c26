// Collapses keys that differ only in numeric segments: `features.1.dw.conv.weight` ...
// `features.15.dw.conv.weight` → `features.{1..15}.dw.conv.weight`, so reports stay short.

/** The key with every numeric segment replaced by `{}`, and the numbers it had. */
export function keyPattern(key: string): { pattern: string; numbers: number[] } {
  const numbers: number[] = [];
  const pattern = key
    .split('.')
    .map((seg) => {
      if (/^\d+$/.test(seg)) {
        numbers.push(Number(seg));
        return '{}';
      }
      return seg;
    })
    .join('.');
  return { pattern, numbers };
}

/** `[1,2,3,5,7,8,9]` → `1..3,5,7..9`. */
export function formatRanges(values: number[]): string {
  const sorted = [...new Set(values)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j - i >= 2 ? `${sorted[i]}..${sorted[j]}` : sorted.slice(i, j + 1).join(','));
    i = j + 1;
  }
  return parts.join(',');
}

/** Fills a pattern's `{}` holes with the value sets seen at each position. */
export function renderPattern(pattern: string, numberLists: number[][]): string {
  let pos = 0;
  return pattern.replace(/\{\}/g, () => {
    const values = numberLists.map((n) => n[pos]);
    pos++;
    const set = new Set(values);
    return set.size === 1 ? String(values[0]) : `{${formatRanges(values)}}`;
  });
}

export interface Group<T> {
  /** Display form, e.g. `features.{1..15}.dw.conv.weight`. */
  label: string;
  items: T[];
}

/**
 * Groups items whose key has the same pattern (and the same `discriminator`, e.g. rule id), in
 * order of first appearance.
 */
export function groupByKey<T>(items: T[], key: (t: T) => string, discriminator: (t: T) => string = () => ''): Group<T>[] {
  const groups = new Map<string, { pattern: string; items: T[]; numbers: number[][] }>();
  for (const item of items) {
    const { pattern, numbers } = keyPattern(key(item));
    const id = `${pattern}\u0000${discriminator(item)}`;
    const g = groups.get(id) ?? { pattern, items: [], numbers: [] };
    g.items.push(item);
    g.numbers.push(numbers);
    groups.set(id, g);
  }
  return [...groups.values()].map((g) => ({ label: renderPattern(g.pattern, g.numbers), items: g.items }));
}

/** Renders the keys of several items as one collapsed label (used for a group's other side). */
export function collapseKeys(keys: string[]): string {
  const groups = groupByKey(keys, (k) => k);
  return groups.map((g) => g.label).join(' | ');
}
