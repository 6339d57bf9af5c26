// `mkdir -p` that fails where it cannot create a folder. Node's own (`mkdirSync(dir, { recursive:
// true })`) loops forever when mkdir answers ENOENT for a parent that stat cannot see either, as
// inside /proc: an output path there hung the command instead of being refused.
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const code = (err: unknown): string | undefined => (err as NodeJS.ErrnoException).code;

/** Creates `dir` and its missing parents; throws the first error that stops one being made. */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let at = resolve(dir); ; at = dirname(at)) {
    try {
      statSync(at);
      break; // exists (a file there makes the mkdir below it fail with ENOTDIR)
    } catch (err) {
      if (code(err) !== 'ENOENT') throw err;
    }
    missing.push(at);
    if (dirname(at) === at) break;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (err) {
      // made meanwhile by someone else: fine if it is a folder
      if (code(err) !== 'EEXIST' || !statSync(d).isDirectory()) throw err;
    }
  }
  if (missing.length === 0 && !statSync(dir).isDirectory()) mkdirSync(dir); // throws EEXIST: a file is there
}
