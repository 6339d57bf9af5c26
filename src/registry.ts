// A small typed registry: names → builders, with errors that say what is registered and what is
// closest, so "X is not in the models registry" never leaves a user guessing.

export class RegistryError extends Error {}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

/**
 * The candidate nearest to `name` by case-insensitive edit distance; undefined when there is none
 * or the nearest is further than `maxDistance`.
 */
export function closestName(name: string, candidates: Iterable<string>, maxDistance = Infinity): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return bestDistance <= maxDistance ? best : undefined;
}

export class Registry<T> {
  private readonly entries = new Map<string, T>();

  /** @param kind what the registry holds, used in messages (e.g. "backbone"). */
  constructor(readonly kind: string) {}

  register(name: string, entry: T): void {
    if (this.entries.has(name)) {
      throw new RegistryError(`${this.kind} '${name}' is already registered`);
    }
    this.entries.set(name, entry);
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  names(): string[] {
    return [...this.entries.keys()].sort();
  }

  closest(name: string): string | undefined {
    return closestName(name, this.entries.keys());
  }

  get(name: string): T {
    const entry = this.entries.get(name);
    if (entry !== undefined) return entry;
    const closest = this.closest(name);
    const hint = closest ? ` Did you mean '${closest}'?` : '';
    throw new RegistryError(
      `unknown ${this.kind} '${name}'.${hint} Registered: ${this.names().join(', ') || '(none)'}. ` +
        `To add one, call register('${name}', ...) on the ${this.kind} registry in a module listed in the config's customImports.`,
    );
  }
}
