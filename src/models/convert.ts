// `convert`: checkpoint → TF.js weights folder that reloads without the source (model.json +
// shards + the mapping used + the diff report), and `loadConverted` to get it back as a model.
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { sha256OfFile } from '../checkpoint/file-digest.js';
import { writeDirAtomic } from '../io/atomic.js';
import { readTfjsWeights, writeTfjsWeights } from '../io/tfjs-weights.js';
import { InputError } from '../errors.js';
import { applyPlan } from '../mapping/apply.js';
import { mapCheckpoint, type MapCheckpointOptions } from './map-checkpoint.js';
import { writeSourceRecord } from '../mapping/source-record.js';
import type { DiffReport } from '../mapping/report.js';
import type { Mapping, ModelOptions } from '../mapping/types.js';

export const TORCHPORT_VERSION = '0.1.0';

/**
 * What a model folder records in model.json's userDefinedMetadata.torchport. `convert` and
 * fine-tuning checkpoints (`latest/`, `best/`) write the same kind of folder: the model name and
 * options (or, for a detector built from a config, the whole detector config), class names, and
 * where the weights came from.
 */
export interface ConvertedMetadata {
  /** A registered backbone or named detector; with `config`, the detector type (e.g. 'FasterRCNN'). */
  model: string;
  options: ModelOptions;
  /** The whole detector config (a FasterRCNNConfig) when the model was built from a config file. */
  config?: Record<string, unknown>;
  /** Foreground class names in label order. */
  classNames?: string[];
  /** The mapping the weights were converted with (`convert`). */
  mapping?: string;
  /** The PyTorch checkpoint the weights were converted from (`convert`). */
  source?: { file: string; sha256: string; bytes: number };
  /** What wrote the folder from what: e.g. `{ by: 'torchport finetune', config: 'cfg.js', epoch: 3 }`. */
  provenance?: Record<string, unknown>;
  /** Parameters the checkpoint did not provide (only with allowMissing): initialised when loaded. */
  missing: string[];
}

export interface ConvertOptions extends MapCheckpointOptions {
  /** Write even when parameters are missing or mismatched (they are initialised on load). */
  allowMissing?: boolean;
}

export interface ConvertResult {
  report: DiffReport;
  notes: string[];
  /** False when the conversion was refused (incomplete without allowMissing). */
  written: boolean;
  files: string[];
}

/** The mapping files used, with the files they include, as written beside the weights. */
function mappingRecord(m: Mapping): unknown {
  return { name: m.name, file: basename(m.file), json: m.json, includes: m.includes.map((i) => mappingRecord(i.mapping)) };
}

export async function convertCheckpoint(path: string, outDir: string, opts: ConvertOptions = {}): Promise<ConvertResult> {
  // The folder is replaced as a whole: never replace one that holds something else.
  if (existsSync(outDir) && (!statSync(outDir).isDirectory() || (readdirSync(outDir).length > 0 && !existsSync(join(outDir, 'model.json'))))) {
    throw new InputError('exists and is not a torchport output folder; choose another --out', outDir);
  }
  let digest: { sha256: string; bytes: number };
  try {
    digest = sha256OfFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a checkpoint file' : `cannot read (${code ?? (err as Error).message})`, path);
  }
  // Read lazily: only the tensors that are converted are read (and CRC-checked).
  const mapped = mapCheckpoint(path, { ...opts, read: { ...opts.read, lazy: true } });
  const { report, detection } = mapped;
  const { best } = detection;
  if (best.plan.conflicts.length > 0 || (!report.summary.complete && !opts.allowMissing)) {
    return { report, notes: mapped.notes, written: false, files: [] };
  }
  const order = best.description.specs.map((s) => s.name);
  const weights = applyPlan(best.plan, mapped.stateDict, order);
  const metadata: ConvertedMetadata = {
    model: best.model,
    options: best.options,
    mapping: best.mapping.name,
    source: { file: basename(path), ...digest },
    missing: [...best.plan.missing.map((m) => m.target), ...best.plan.mismatched.map((m) => m.target)],
  };
  let files: string[] = [];
  await writeDirAtomic(outDir, (tmp) => {
    const json = writeTfjsWeights(tmp, weights, {
      format: 'torchport-weights',
      generatedBy: `torchport ${TORCHPORT_VERSION}`,
      convertedBy: `torchport ${TORCHPORT_VERSION}`,
      userDefinedMetadata: { torchport: metadata },
    });
    writeFileSync(join(tmp, 'mapping.json'), `${JSON.stringify(mappingRecord(best.mapping), null, 1)}\n`);
    writeFileSync(join(tmp, 'diff-report.json'), `${JSON.stringify(report, null, 1)}\n`);
    files = ['model.json', ...json.weightsManifest[0].paths, 'mapping.json', 'diff-report.json'];
    files.push(...writeSourceRecord(tmp, mapped.stateDict, best.plan, { mapping: best.mapping.name, ...mapped.origin }));
  });
  return { report, notes: mapped.notes, written: true, files };
}

/** Reads the metadata a model folder (from `convert` or a fine-tuning checkpoint) keeps in model.json. */
export function readConvertedMetadata(modelJson: { userDefinedMetadata?: Record<string, unknown> }, dir: string): ConvertedMetadata {
  const meta = modelJson.userDefinedMetadata?.torchport as ConvertedMetadata | undefined;
  if (!meta || typeof meta.model !== 'string' || typeof meta.options !== 'object' || (meta.config !== undefined && typeof meta.config !== 'object')) {
    throw new InputError(
      'model.json has no torchport metadata (userDefinedMetadata.torchport): not a model folder written by `torchport convert` or `torchport finetune`',
      dir,
    );
  }
  return { ...meta, missing: Array.isArray(meta.missing) ? meta.missing : [] };
}

export interface LoadConvertedOptions {
  /** Override the feature layers the model returns ('all': every feature layer). */
  outIndices?: number[] | 'all';
}

/**
 * Loads a converted folder: the backbone (built from the recorded model name and options) and its
 * WeightMap as TF.js tensors on the active backend. Parameters recorded as missing are initialised
 * (seeded) and listed in `initialised`.
 */
export async function loadConverted(dir: string, opts: LoadConvertedOptions = {}) {
  const { modelJson, weights } = readTfjsWeights(dir);
  const metadata = readConvertedMetadata(modelJson, dir);
  const tf = await import('@tensorflow/tfjs-core');
  const { backbones } = await import('./backbones/registry.js');
  if (!backbones.has(metadata.model)) throw new InputError(`model '${metadata.model}' is not a registered backbone (known: ${backbones.names().join(', ')})`, dir);
  const create = backbones.get(metadata.model);
  const recorded = create(metadata.options);
  const outIndices = opts.outIndices === 'all' ? recorded.featureInfo.map((f) => f.index) : opts.outIndices;
  const model = outIndices ? create({ ...metadata.options, outIndices }) : recorded;
  const specs = new Map(model.specs.map((s) => [s.name, s]));
  const map: Record<string, import('@tensorflow/tfjs-core').Tensor> = {};
  for (const w of weights) {
    const spec = specs.get(w.name);
    if (!spec) throw new InputError(`weight '${w.name}' is not a parameter of ${metadata.model} with the recorded options`, dir);
    if (spec.shape.join() !== w.shape.join()) throw new InputError(`weight '${w.name}' has shape [${w.shape.join(', ')}], the model needs [${spec.shape.join(', ')}]`, dir);
    map[w.name] = tf.tensor(w.data, w.shape, 'float32');
  }
  const initialised = model.specs.filter((s) => !(s.name in map)).map((s) => s.name);
  if (initialised.length > 0) {
    const fresh = model.initWeights(0);
    for (const [name, t] of Object.entries(fresh)) {
      if (name in map) t.dispose();
      else map[name] = t;
    }
  }
  // The feature layers `forward` returns, in order (a backbone records them in its options).
  const active = outIndices ?? (model as { options?: { outIndices?: number[] } }).options?.outIndices ?? [];
  return { model, weights: map, metadata, initialised, outIndices: active };
}

/** Frees what loadConverted allocated: the weight tensors and the model's cached folded weights. */
export function disposeConverted(loaded: { model: object; weights: Record<string, { dispose(): void }> }): void {
  for (const t of Object.values(loaded.weights)) t.dispose();
  (loaded.model as { releaseCache?: () => void }).releaseCache?.();
}
