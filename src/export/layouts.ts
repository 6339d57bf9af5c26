// Which mapping file describes a model in a given checkpoint layout. A layout is a family of
// mapping files (`<layout>-*.json`); the one used must target the model and agree with the facts
// the model was built with (backbone family, BatchNorm eps): weights in a layout whose code computes
// something else would load and be wrong. The class layout is the one fact export converts.
import { InputError } from '../errors.js';
import { baseOptions } from '../mapping/detect.js';
import { BUILTIN_MAPPINGS_DIR, loadAllMappings } from '../mapping/load.js';
import { reverseKeys, type KeyHints, type ReversedKeys } from '../mapping/reverse.js';
import type { Mapping, ModelOptions } from '../mapping/types.js';
import { DETECTOR_MODELS } from '../models/detectors/torchvision.js';
import type { FolderWeights } from './model-folder.js';

export const LAYOUTS = ['torchvision', 'mmdet', 'dli14', 'timm'] as const;
export type Layout = (typeof LAYOUTS)[number];

export interface ChosenLayout {
  mapping: Mapping;
  /** The mapping target the keys were derived for. */
  model: string;
  names: ReversedKeys;
  /** The layout's class layout (detectors). */
  classLayout: 'torchvision' | 'mmdet';
}

const CONVERTED_FACTS = new Set(['classLayout', 'numClasses', 'classNames']);

/** The first fact on which the layout and the model disagree, as text. */
function factConflict(layoutFacts: ModelOptions, modelFacts: ModelOptions, path = ''): string | undefined {
  for (const [k, v] of Object.entries(layoutFacts)) {
    if (CONVERTED_FACTS.has(k) || !(k in modelFacts)) continue;
    const mine = modelFacts[k];
    if (v && typeof v === 'object' && mine && typeof mine === 'object') {
      const inner = factConflict(v as ModelOptions, mine as ModelOptions, `${path}${k}.`);
      if (inner) return inner;
    } else if (JSON.stringify(v) !== JSON.stringify(mine)) {
      return `it builds ${path}${k} = ${JSON.stringify(v)}, the model has ${JSON.stringify(mine)}`;
    }
  }
  return undefined;
}

function layoutOf(mapping: Mapping): string {
  return mapping.name.split('-')[0];
}

/** Mapping targets that may describe the model: its own name, or (a detector built from a config) any detector. */
function targetsFor(mapping: Mapping, folder: FolderWeights): string[] {
  const models = mapping.targets.map((t) => t.model);
  if (models.includes(folder.model)) return [folder.model];
  return folder.meta.config ? models.filter((m) => DETECTOR_MODELS.includes(m)) : [];
}

/**
 * The keys the converted checkpoint gave the parameters, when it gave every one: what its mapping's
 * rules give back with the record's hints, without running them backwards.
 */
function recordedKeys(folder: FolderWeights, names: string[]): ReversedKeys | undefined {
  const record = folder.source?.record;
  if (!record) return undefined;
  const dense = new Set(folder.specs.filter((s) => s.kind === 'dense').map((s) => s.name));
  const keys = new Map<string, string>();
  const conv1x1 = new Set<string>();
  for (const t of record.tensors) {
    if (t.target === undefined) continue;
    keys.set(t.target, t.key);
    if (dense.has(t.target) && t.shape.length === 4) conv1x1.add(t.target);
  }
  return names.every((n) => keys.has(n)) ? { keys, unnamed: [], conv1x1 } : undefined;
}

/**
 * The mapping for `layout` (default: the layout the weights came from) that holds the model, with
 * every parameter's key. A layout that cannot hold the model is an InputError saying why. `hints`
 * (the converted checkpoint's keys) are made only if another mapping's keys are derived.
 */
export function chooseLayout(folder: FolderWeights, layout: string | undefined, hints: () => KeyHints, mappingDirs = [BUILTIN_MAPPINGS_DIR]): ChosenLayout {
  const all = loadAllMappings(mappingDirs);
  const sourceMapping = folder.source ? all.find((m) => m.name === folder.source?.record.mapping) : undefined;
  const modelClassLayout = (folder.facts.classLayout as 'torchvision' | 'mmdet' | undefined) ?? 'torchvision';
  let wanted: string[];
  if (layout !== undefined) {
    if (!(LAYOUTS as readonly string[]).includes(layout)) throw new InputError(`unknown layout '${layout}' (known: ${LAYOUTS.join(', ')})`);
    wanted = [layout];
  } else if (sourceMapping) {
    wanted = [layoutOf(sourceMapping)];
  } else {
    wanted = modelClassLayout === 'mmdet' ? ['mmdet', 'torchvision', 'dli14', 'timm'] : ['torchvision', 'dli14', 'mmdet', 'timm'];
  }
  const names = folder.specs.map((s) => s.name);
  const reasons: string[] = [];
  for (const l of wanted) {
    // The mapping the weights came from first: its keys are the source's own.
    const candidates = all.filter((m) => layoutOf(m) === l).sort((a, b) => Number(b === sourceMapping) - Number(a === sourceMapping));
    for (const mapping of candidates) {
      for (const model of targetsFor(mapping, folder)) {
        const conflict = factConflict(baseOptions(mapping, model), folder.facts);
        if (conflict) {
          reasons.push(`${mapping.name}: ${conflict}`);
          continue;
        }
        const r = (mapping === sourceMapping ? recordedKeys(folder, names) : undefined) ?? reverseKeys(names, mapping, model, hints());
        if (r.unnamed.length > 0) {
          reasons.push(`${mapping.name}: no key for ${r.unnamed.slice(0, 3).join(', ')}${r.unnamed.length > 3 ? ` and ${r.unnamed.length - 3} more` : ''}`);
          continue;
        }
        const classLayout = (baseOptions(mapping, model).classLayout as 'torchvision' | 'mmdet' | undefined) ?? 'torchvision';
        return { mapping, model, names: r, classLayout };
      }
    }
    if (!candidates.some((m) => targetsFor(m, folder).length > 0)) {
      const held = [...new Set(candidates.flatMap((m) => m.targets.map((t) => t.model)))];
      reasons.push(`no ${l} mapping targets ${folder.model} (${l} mappings hold: ${held.join(', ') || 'nothing'})`);
    }
  }
  throw new InputError(`layout '${wanted.length === 1 ? wanted[0] : 'any'}' cannot hold this model: ${reasons.join('; ')}`, folder.dir);
}
