// torchvision's detector builders as named models with options, so the mapping engine can plan a
// conversion into them (specs without TF.js) and `convert` can record what to rebuild.
import { InputError } from '../../errors.js';
import type { FeatureInfo, ParamSpec } from '../../mapping/params.js';
import {
  fasterrcnnMobileNetV3Large320FPN,
  fasterrcnnMobileNetV3LargeFPN,
  type FasterRCNNConfig,
  type TorchvisionFasterRCNNOptions,
} from '../faster-rcnn/config.js';
import { fasterRCNNLayout } from '../faster-rcnn/specs.js';

/** Options of a named detector: the builder's options plus the backbone's own (under `backbone`). */
export interface DetectorModelOptions extends TorchvisionFasterRCNNOptions {
  backbone?: Record<string, unknown>;
  /** Class names for the foreground classes, in label order (used by `detect`). */
  classNames?: string[];
}

const BUILDERS: Record<string, (o: TorchvisionFasterRCNNOptions) => FasterRCNNConfig> = {
  fasterrcnn_mobilenet_v3_large_fpn: fasterrcnnMobileNetV3LargeFPN,
  fasterrcnn_mobilenet_v3_large_320_fpn: fasterrcnnMobileNetV3Large320FPN,
};

export const DETECTOR_MODELS = Object.keys(BUILDERS);

const KNOWN_OPTIONS = new Set(['backbone', 'classNames', 'numClasses', 'widthMult', 'fpnChannels', 'representationSize', 'classLayout']);

/** The FasterRCNNConfig a named detector with these options stands for. */
export function torchvisionDetectorConfig(model: string, options: DetectorModelOptions = {}): FasterRCNNConfig {
  const build = BUILDERS[model];
  if (!build) throw new InputError(`'${model}' is not a detector (known: ${DETECTOR_MODELS.join(', ')})`);
  const unknown = Object.keys(options).filter((k) => !KNOWN_OPTIONS.has(k));
  if (unknown.length > 0) throw new InputError(`${model}: unknown option(s) ${unknown.join(', ')} (known: ${[...KNOWN_OPTIONS].join(', ')})`);
  const { backbone, classNames, ...builderOptions } = options;
  for (const key of ['fpnChannels', 'representationSize'] as const) {
    const value = builderOptions[key];
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) throw new InputError(`${model}: ${key} must be a positive integer, got ${value}`);
  }
  const base = build(builderOptions);
  // widthMult lives in the backbone options when a mapping infers it there; the top-level option is
  // torchvision's `width_mult` as the user sets it, so it wins over a width read off the checkpoint.
  const width = builderOptions.widthMult === undefined ? {} : { widthMult: builderOptions.widthMult };
  const config: FasterRCNNConfig = { ...base, backbone: { ...base.backbone, ...(backbone ?? {}), ...width } };
  if (classNames) config.classNames = classNames;
  return config;
}

/**
 * Specs of a named detector; `describeBackbone` gives the backbone's specs and feature info for
 * the backbone options (the mapping engine's TF.js-free description).
 */
export function describeDetector(
  model: string,
  options: DetectorModelOptions,
  describeBackbone: (model: string, options: Record<string, unknown>) => { specs: ParamSpec[]; featureInfo: FeatureInfo[] },
): { specs: ParamSpec[]; featureInfo: FeatureInfo[]; config: FasterRCNNConfig } {
  const config = torchvisionDetectorConfig(model, options);
  const { type, ...backboneOptions } = config.backbone;
  const backbone = describeBackbone(type, backboneOptions);
  return { specs: fasterRCNNLayout(config, backbone.specs, backbone.featureInfo).specs, featureInfo: [], config };
}
