// Text forms of model options and index lists, as the commands take them: `--set widthMult=0.5`,
// `--out-indices 2,5,9,14`. Bad text is an InputError.
import { InputError } from '../errors.js';
import { closestName } from '../registry.js';
import type { ModelOptions } from './types.js';

type OptionKind = 'number' | 'integer' | 'boolean' | 'integer list' | 'string list' | 'object' | readonly string[];

/**
 * Every option a model torchport ships takes, with the type of its value: `--set` refuses a name
 * outside it (a typo would otherwise be searched around or written into model.json) and a value of
 * the wrong type (which would make auto-detection fall back to another model). Ranges are the
 * model's own check.
 */
const OPTION_KINDS: Record<string, OptionKind> = {
  // backbones (mobilenetv3_large, mobilenetv3_small)
  widthMult: 'number',
  family: ['torchvision', 'dli14'],
  bnEps: 'number',
  bnMomentum: 'number',
  dropout: 'number',
  outIndices: 'integer list',
  numClasses: 'integer',
  frozenStages: 'integer',
  normEval: 'boolean',
  // detectors (fasterrcnn_mobilenet_v3_large_fpn, fasterrcnn_mobilenet_v3_large_320_fpn)
  backbone: 'object',
  classNames: 'string list',
  fpnChannels: 'integer',
  representationSize: 'integer',
  classLayout: ['torchvision', 'mmdet'],
};

function fits(kind: OptionKind, value: unknown): boolean {
  if (typeof kind !== 'string') return kind.includes(value as string);
  switch (kind) {
    case 'number': return typeof value === 'number';
    case 'integer': return Number.isInteger(value);
    case 'boolean': return typeof value === 'boolean';
    case 'integer list': return Array.isArray(value) && value.every((v) => Number.isInteger(v));
    case 'string list': return Array.isArray(value) && value.every((v) => typeof v === 'string');
    default: return typeof value === 'object' && value !== null && !Array.isArray(value);
  }
}

function describeKind(kind: OptionKind): string {
  if (typeof kind !== 'string') return `one of ${kind.join(', ')}`;
  if (kind === 'object') return 'a JSON object';
  return kind.endsWith('list') ? `a JSON list of ${kind.split(' ')[0]}s` : `a ${kind}`;
}

/** `["widthMult=0.5", "family=dli14", "outIndices=[2,5]"]` → options (values parsed as JSON when they can be). */
export function parseOptionAssignments(assignments: string[] = []): ModelOptions {
  const options: ModelOptions = {};
  for (const a of assignments) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new InputError(`--set expects NAME=VALUE, got '${a}'`);
    const name = a.slice(0, eq);
    const text = a.slice(eq + 1);
    const kind = OPTION_KINDS[name];
    if (kind === undefined) {
      const closest = closestName(name, Object.keys(OPTION_KINDS), 3);
      throw new InputError(`--set ${name}: unknown model option${closest ? `; did you mean ${closest}?` : ''} (known: ${Object.keys(OPTION_KINDS).join(', ')})`);
    }
    let value: unknown = text;
    try {
      value = JSON.parse(text);
    } catch {
      // not JSON: keep it as text (e.g. family=dli14)
    }
    if (!fits(kind, value)) throw new InputError(`--set ${a}: ${name} must be ${describeKind(kind)}`);
    options[name] = value;
  }
  // A detector's widthMult is its backbone's: two different widths would leave one of them unused.
  const nested = (options.backbone as ModelOptions | undefined)?.widthMult;
  if (nested !== undefined && options.widthMult !== undefined && nested !== options.widthMult) {
    throw new InputError(`--set widthMult=${options.widthMult} and backbone.widthMult=${JSON.stringify(nested)} disagree; set the width once`);
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
