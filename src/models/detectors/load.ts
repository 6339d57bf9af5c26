// Loading a detector: from a PyTorch checkpoint through the mapping engine, or from a model folder
// (`torchport convert` output or a fine-tuning checkpoint). Parameters the source lacks (e.g. a
// backbone-only checkpoint loaded into a detector) are freshly initialised, on purpose, and listed
// in `initialised`.
import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../../errors.js';
import { readTfjsWeights } from '../../io/tfjs-weights.js';
import { applyPlan, type NamedWeight } from '../../mapping/apply.js';
import { readConvertedMetadata, type ConvertedMetadata } from '../convert.js';
import { mapCheckpoint, type MapCheckpointOptions, type MappedCheckpoint } from '../map-checkpoint.js';
import type { FasterRCNNConfig } from '../faster-rcnn/config.js';
import { createFasterRCNN, type FasterRCNN } from '../faster-rcnn/faster-rcnn.js';
import type { WeightMap } from '../layers/weights.js';
import { detectors } from './registry.js';
import { DETECTOR_MODELS, torchvisionDetectorConfig, type DetectorModelOptions } from './torchvision.js';

export interface LoadedDetector {
  model: FasterRCNN;
  weights: WeightMap;
  /** Model name and options the weights were mapped for. */
  name: string;
  options: DetectorModelOptions;
  /** Parameters not in the source: initialised (seeded) instead. */
  initialised: string[];
}

/** Builds the detector and fills a WeightMap from converted weights, initialising the rest. */
export function assembleDetector(name: string, options: DetectorModelOptions, named: NamedWeight[], seed = 0, where?: string): LoadedDetector {
  if (!DETECTOR_MODELS.includes(name)) throw new InputError(`model '${name}' is not a detector (known: ${DETECTOR_MODELS.join(', ')})`, where);
  return fillDetector(createFasterRCNN(torchvisionDetectorConfig(name, options)), name, options, named, seed, where);
}

function fillDetector(model: FasterRCNN, name: string, options: DetectorModelOptions, named: NamedWeight[], seed: number, where?: string): LoadedDetector {
  const specs = new Map(model.specs.map((s) => [s.name, s]));
  const weights: WeightMap = {};
  for (const w of named) {
    const spec = specs.get(w.name);
    if (!spec) throw new InputError(`weight '${w.name}' is not a parameter of ${name} with these options`, where);
    if (spec.shape.join() !== w.shape.join()) {
      throw new InputError(`weight '${w.name}' has shape [${w.shape.join(', ')}], ${name} needs [${spec.shape.join(', ')}]`, where);
    }
    weights[w.name] = tf.tensor(w.data, w.shape, 'float32');
  }
  const initialised = model.specs.filter((s) => !(s.name in weights)).map((s) => s.name);
  if (initialised.length > 0) {
    for (const [n, t] of Object.entries(model.initWeights(seed))) {
      if (n in weights) t.dispose();
      else weights[n] = t;
    }
  }
  return { model, weights, name, options, initialised };
}

/** A PyTorch detector checkpoint, mapped (auto-detected unless `opts.mapping`/`opts.model`). */
export function loadDetectorCheckpoint(path: string, opts: MapCheckpointOptions = {}): LoadedDetector & { mapped: MappedCheckpoint } {
  const mapped = mapCheckpoint(path, opts);
  const { best } = mapped.detection;
  if (best.plan.conflicts.length > 0) throw new InputError(`ambiguous mapping: ${best.plan.conflicts.length} parameter(s) claimed twice (run \`torchport diff\`)`, path);
  if (best.plan.mismatched.length > 0) {
    const m = best.plan.mismatched[0];
    throw new InputError(`'${m.source}' does not fit '${m.target}' (run \`torchport diff\` for all ${best.plan.mismatched.length})`, path);
  }
  const named = applyPlan(best.plan, mapped.stateDict, best.description.specs.map((s) => s.name));
  return { ...assembleDetector(best.model, best.options as DetectorModelOptions, named, 0, path), mapped };
}

/**
 * The metadata a detector's model folder carries when the detector was built from a config (a
 * fine-tuning checkpoint): the whole config, so the folder loads without the config file.
 */
export function detectorFolderMetadata(config: FasterRCNNConfig, type: string, provenance: Record<string, unknown>): ConvertedMetadata {
  return { model: type, options: {}, config: config as unknown as Record<string, unknown>, classNames: config.classNames, provenance, missing: [] };
}

/** The detector a model folder's metadata describes (named with options, or a whole config). */
export function detectorFromMetadata(meta: ConvertedMetadata, dir?: string): { model: FasterRCNN; name: string; options: DetectorModelOptions } {
  if (meta.config) {
    if (!detectors.has(meta.model)) throw new InputError(`model '${meta.model}' is not a registered detector (known: ${detectors.names().join(', ')})`, dir);
    const config = { ...(meta.config as unknown as FasterRCNNConfig) };
    if (meta.classNames) config.classNames = meta.classNames;
    return { model: detectors.get(meta.model)(config), name: meta.model, options: {} };
  }
  if (!DETECTOR_MODELS.includes(meta.model)) throw new InputError(`model '${meta.model}' is not a detector (known: ${DETECTOR_MODELS.join(', ')})`, dir);
  const options = { ...(meta.options as DetectorModelOptions) };
  if (meta.classNames && !options.classNames) options.classNames = meta.classNames;
  return { model: createFasterRCNN(torchvisionDetectorConfig(meta.model, options)), name: meta.model, options };
}

/** A detector model folder: `torchport convert` output or a fine-tuning checkpoint (`latest/`, `best/`). */
export function loadDetectorDir(dir: string): LoadedDetector {
  const { modelJson, weights } = readTfjsWeights(dir);
  const meta = readConvertedMetadata(modelJson, dir);
  const { model, name, options } = detectorFromMetadata(meta, dir);
  return fillDetector(model, name, options, weights, 0, dir);
}
