// The weights a fine-tuning run starts from: fresh (seeded) weights for the whole detector, then
// `init_cfg` (a backbone checkpoint) and `load_from` (a whole detector) applied in that order
// through the converter, each logged with the mapping's diff summary. A weight whose shape differs
// only because the class count changed (the box predictor) is re-initialised and reported; any
// other shape difference is an error, never a silent partial load.
import { statSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import type { WeightSource } from '../config/weights.js';
import { extractStateDict } from '../checkpoint/extract.js';
import { readCheckpoint } from '../checkpoint/read.js';
import { InputError } from '../errors.js';
import { readTfjsWeights } from '../io/tfjs-weights.js';
import { applyPlan, type NamedWeight } from '../mapping/apply.js';
import { detectForSources, sourceSpecs } from '../models/map-checkpoint.js';
import { buildReport, summaryLine } from '../mapping/report.js';
import type { FasterRCNNConfig } from '../models/faster-rcnn/config.js';
import type { FasterRCNN } from '../models/faster-rcnn/faster-rcnn.js';
import { readConvertedMetadata } from '../models/convert.js';
import { detectorFromMetadata } from '../models/detectors/load.js';
import { DETECTOR_MODELS, torchvisionDetectorConfig, type DetectorModelOptions } from '../models/detectors/torchvision.js';
import type { WeightMap } from '../models/layers/weights.js';

/** Parameters whose shape follows the number of classes (torchvision's FastRCNNPredictor). */
const CLASS_DEPENDENT = /^roi_head\.(cls_score|bbox_pred)\./;

export interface InitialWeights {
  weights: WeightMap;
  /** Human-readable lines: one summary per source, re-initialised heads, unused weights. */
  log: string[];
}

interface SourceWeights {
  named: NamedWeight[];
  summary: string;
  /** The detector a whole-detector source was made for (its folder's metadata or the mapping's inference). */
  madeFor?: { name: string; config: FasterRCNNConfig };
}

/** Converted weights of one source, named as the source's target model names them. */
function readSource(src: WeightSource): SourceWeights {
  if (statSync(src.checkpoint).isDirectory()) {
    const { weights, modelJson } = readTfjsWeights(src.checkpoint);
    const named = src.prefix ? weights.filter((w) => w.name.startsWith(src.prefix!)).map((w) => ({ ...w, name: w.name.slice(src.prefix!.length) })) : weights;
    let madeFor: SourceWeights['madeFor'];
    if (src.target === 'detector' && !src.prefix && modelJson.userDefinedMetadata?.torchport) {
      const made = detectorFromMetadata(readConvertedMetadata(modelJson, src.checkpoint), src.checkpoint);
      madeFor = { name: made.name, config: made.model.config };
    }
    return { named, summary: `${named.length} converted weights`, madeFor };
  }
  const file = readCheckpoint(src.checkpoint, src.read);
  const extracted = extractStateDict(file.object, { file: src.checkpoint, key: src.key });
  let stateDict = extracted.stateDict;
  if (src.prefix) {
    // mmengine's prefix: keep only the keys under it, prefix removed
    stateDict = new Map([...stateDict].filter(([k]) => k.startsWith(src.prefix!)).map(([k, t]) => [k.slice(src.prefix!.length), t]));
    if (stateDict.size === 0) throw new InputError(`no key starts with prefix '${src.prefix}'`, src.checkpoint);
  }
  const detection = detectForSources(sourceSpecs(stateDict), { mapping: src.mapping, model: src.model });
  const report = buildReport(detection, src.checkpoint);
  const { best } = detection;
  if (best.plan.conflicts.length > 0) throw new InputError(`ambiguous mapping: ${best.plan.conflicts.length} parameter(s) claimed twice (run \`torchport diff\`)`, src.checkpoint);
  const named = applyPlan(best.plan, stateDict, best.description.specs.map((s) => s.name));
  const madeFor = src.target === 'detector' && DETECTOR_MODELS.includes(best.model) ? { name: best.model, config: torchvisionDetectorConfig(best.model, best.options as DetectorModelOptions) } : undefined;
  return { named, summary: `mapping ${report.mapping.name} → ${report.model.name}: ${summaryLine(report.summary)}`, madeFor };
}

/** The --cfg-options that give the configured detector the shapes of the one a source was made for. */
function matchingOptions(made: FasterRCNNConfig, configured: FasterRCNNConfig): string[] {
  const pairs: [string, unknown, unknown][] = [
    ['model.backbone.widthMult', made.backbone.widthMult ?? 1, configured.backbone.widthMult ?? 1],
    ['model.neck.outChannels', made.neck.outChannels, configured.neck.outChannels],
    ['model.roiHead.representationSize', made.roiHead.representationSize, configured.roiHead.representationSize],
  ];
  return pairs.filter(([, a, b]) => a !== b).map(([key, value]) => `${key}=${value}`);
}

export function loadInitialWeights(detector: FasterRCNN, sources: WeightSource[], seed: number): InitialWeights {
  const weights = detector.initWeights(seed);
  const specs = new Map(detector.specs.map((s) => [s.name, s]));
  const log: string[] = [];
  const fromSource = new Set<string>();
  for (const src of sources) {
    const { named, summary, madeFor } = readSource(src);
    log.push(`${src.origin}: ${src.checkpoint}: ${summary}`);
    const unused: string[] = [];
    const reinitialised: string[] = [];
    for (const w of named) {
      const name = src.target === 'backbone' ? `backbone.${w.name}` : w.name;
      const spec = specs.get(name);
      if (!spec) {
        unused.push(name);
        continue;
      }
      if (spec.shape.join() !== w.shape.join()) {
        if (CLASS_DEPENDENT.test(name)) {
          reinitialised.push(`${name} [${w.shape.join(', ')}] → [${spec.shape.join(', ')}]`);
          continue;
        }
        const fix = madeFor ? matchingOptions(madeFor.config, detector.config) : [];
        const hint = fix.length > 0 ? `; the checkpoint is a ${madeFor!.name} with other options: add --cfg-options ${fix.join(' ')}` : '';
        throw new InputError(`${src.origin}: weight '${name}' has shape [${w.shape.join(', ')}], the configured model needs [${spec.shape.join(', ')}]${hint}`, src.checkpoint);
      }
      weights[name].dispose();
      weights[name] = tf.tensor(w.data, w.shape, 'float32');
      fromSource.add(name);
    }
    if (reinitialised.length > 0) {
      log.push(`  the class count changed (${detector.config.roiHead.numClasses} classes with background now): re-initialised ${reinitialised.join('; ')}`);
    }
    if (unused.length > 0) log.push(`  ${unused.length} weight(s) the configured detector has no place for, not used: ${unused.slice(0, 4).join(', ')}${unused.length > 4 ? ', ...' : ''}`);
  }
  const fresh = detector.specs.filter((s) => !fromSource.has(s.name));
  log.push(`initialised fresh (seed ${seed}): ${fresh.length} of ${detector.specs.length} parameters${sources.length === 0 ? ' (no init_cfg or load_from: training from scratch)' : ''}`);
  return { weights, log };
}
