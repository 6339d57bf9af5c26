// The model section's consistency, checked by building the detector's structure (parameter specs
// and feature info only, no tensors): backbone options, neck inChannels against the backbone's
// outIndices (derived when omitted or 'auto', both lists shown when wrong), anchors against the
// pyramid levels, and the class count against the dataset.

import { InputError } from '../errors.js';
import type { LabelMap } from '../data/coco.js';
import type { FasterRCNNConfig } from '../models/faster-rcnn/config.js';
import type { FasterRCNN } from '../models/faster-rcnn/faster-rcnn.js';
import { RegistryError } from '../registry.js';
import type { TrainConfig } from './types.js';
import { detectorConfig } from './validate.js';

export interface CheckedModel {
  config: FasterRCNNConfig;
  /** The detector's structure (specs, feature info); weights are created separately. */
  detector: FasterRCNN;
}

/** Builds the detector structure from a validated config and the dataset's labels. */
export async function checkModel(cfg: TrainConfig, labels?: LabelMap, file?: string): Promise<CheckedModel> {
  const declared = cfg.model.roiHead.numClasses;
  if (labels && declared !== 'auto' && declared !== labels.numClasses) {
    throw new InputError(
      `model.roiHead.numClasses is ${declared} but the dataset has ${labels.numClasses - 1} categories ` +
        `(${labels.names.join(', ')}) + background = ${labels.numClasses}; set it to ${labels.numClasses} or 'auto'`,
      file,
    );
  }
  const config = detectorConfig(cfg, labels?.numClasses, labels?.names);
  const [{ detectors }, { backbones }, { necks }] = await Promise.all([
    import('../models/detectors/registry.js'),
    import('../models/backbones/registry.js'),
    import('../models/necks/registry.js'),
  ]);
  const lookups: [string, { get(name: string): unknown }, string][] = [
    ['model.type', detectors, cfg.model.type],
    ['model.backbone.type', backbones, cfg.model.backbone.type],
    ['model.neck.type', necks, cfg.model.neck.type],
  ];
  for (const [path, registry, name] of lookups) {
    try {
      registry.get(name);
    } catch (err) {
      if (err instanceof RegistryError) throw new InputError(`${path}: ${err.message}`, file);
      throw err;
    }
  }
  try {
    return { config, detector: detectors.get(cfg.model.type)(config) };
  } catch (err) {
    if (err instanceof InputError) throw new InputError(`model: ${err.message}`, file);
    throw err;
  }
}
