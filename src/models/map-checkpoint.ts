// read → unwrap → detect/force a mapping → plan: the part of `convert` and `diff` that needs no TF.js.
import { extractStateDict, type ExtractOptions } from '../checkpoint/extract.js';
import { readCheckpoint, readCheckpointBytes, type ReadOptions } from '../checkpoint/read.js';
import type { StateDict } from '../checkpoint/types.js';
import { InputError } from '../errors.js';
import { detectMapping, fingerprintFailure, type Detection } from '../mapping/detect.js';
import { BUILTIN_MAPPINGS_DIR, loadAllMappings, loadMapping } from '../mapping/load.js';
import { describeModel } from './descriptions.js';
import type { SourceSpec } from '../mapping/plan.js';
import { buildReport, type DiffReport } from '../mapping/report.js';
import type { SourceOrigin } from '../mapping/source-record.js';
import type { ModelOptions } from '../mapping/types.js';

export interface MapCheckpointOptions {
  /** Force this mapping (a name in the mapping folders, or a path to a .json file). */
  mapping?: string;
  /** Load into this model (else: whichever model the best mapping targets). */
  model?: string;
  /** Model options that override the mapping's facts and inferred values. */
  options?: ModelOptions;
  /** Where the state dict sits in the checkpoint / which prefix to strip (see extractStateDict). */
  extract?: Omit<ExtractOptions, 'file'>;
  /** Folders with mapping files (default: the shipped `mappings/`). */
  mappingDirs?: string[];
  /** How to read the file (`--strict`, `--no-verify`). */
  read?: ReadOptions;
}

export interface MappedCheckpoint {
  stateDict: StateDict;
  sources: SourceSpec[];
  detection: Detection;
  report: DiffReport;
  /** What unwrapping did (e.g. "stripped 'module.' from all 312 keys"), and reader warnings. */
  notes: string[];
  /** Where the state dict sat in the file and what unwrapping removed (export restores it). */
  origin: Omit<SourceOrigin, 'mapping'>;
}

export function sourceSpecs(stateDict: StateDict): SourceSpec[] {
  return [...stateDict].map(([key, t]) => ({ key, shape: t.shape, dtype: t.dtype }));
}

/** Plans `sources` against the shipped (or given) mappings: detection unless a mapping is forced. */
export function detectForSources(sources: SourceSpec[], opts: Omit<MapCheckpointOptions, 'extract' | 'read'> = {}): Detection {
  const dirs = opts.mappingDirs ?? [BUILTIN_MAPPINGS_DIR];
  const common = { model: opts.model, options: opts.options };
  if (opts.mapping) return detectMapping(sources, [loadMapping(opts.mapping, dirs)], describeModel, { ...common, forced: true });
  const mappings = loadAllMappings(dirs);
  const candidates = mappings.filter((m) => !opts.model || m.targets.some((t) => t.model === opts.model));
  if (candidates.length === 0) {
    throw new InputError(`no mapping targets model '${opts.model}' (mappings: ${mappings.map((m) => m.name).join(', ')})`);
  }
  const fingerprinted = candidates.filter((m) => fingerprintFailure(m, sources.map((s) => s.key)) === undefined);
  if (fingerprinted.length > 0) return detectMapping(sources, fingerprinted, describeModel, common);
  // No fingerprint matched (e.g. another architecture): report against the closest mapping anyway.
  const fallback = detectMapping(sources, candidates, describeModel, { ...common, forced: true });
  return { ...fallback, forced: false, fingerprintMatched: false };
}

/** `bytes`: the file's contents when the caller already read them (convert hashes them too). */
export function mapCheckpoint(path: string, opts: MapCheckpointOptions = {}, bytes?: Uint8Array): MappedCheckpoint {
  const read = opts.read ?? {};
  const file = bytes ? readCheckpointBytes(bytes, path, read) : readCheckpoint(path, read);
  const extracted = extractStateDict(file.object, { ...opts.extract, file: path });
  const sources = sourceSpecs(extracted.stateDict);
  const detection = detectForSources(sources, opts);
  const notes = [...file.warnings, ...extracted.notes];
  const origin = { container: extracted.source, strippedPrefix: extracted.strippedPrefix, metadata: extracted.metadata };
  return { stateDict: extracted.stateDict, sources, detection, report: buildReport(detection, path, notes), notes, origin };
}
