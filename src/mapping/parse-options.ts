// Text forms of model options and index lists, as the commands take them: `--set widthMult=0.5`,
// `--out-indices 2,5,9,14`. Bad text is an InputError.
import { InputError } from '../errors.js';
import type { ModelOptions } from './types.js';

/** `["widthMult=0.5", "family=dli14", "outIndices=[2,5]"]` → options (values parsed as JSON when they can be). */
export function parseOptionAssignments(assignments: string[] = []): ModelOptions {
  const options: ModelOptions = {};
  for (const a of assignments) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new InputError(`--set expects NAME=VALUE, got '${a}'`);
    const text = a.slice(eq + 1);
    let value: unknown = text;
    try {
      value = JSON.parse(text);
    } catch {
      // not JSON: keep it as text (e.g. family=dli14)
    }
    options[a.slice(0, eq)] = value;
  }
  return options;
}

/** `["2,5", "9", "14"]` → `[2, 5, 9, 14]`. */
export function parseIndexList(values: Array<string | number> = []): number[] {
  return values.flatMap((v) => String(v).split(',')).filter((s) => s.trim().length > 0).map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n)) throw new InputError(`--out-indices expects integers, got '${s.trim()}'`);
    return n;
  });
}
