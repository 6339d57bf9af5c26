// Where a run's starting weights come from: `model.backbone.init_cfg` (mmengine's PretrainedInit:
// a backbone checkpoint, optionally the sub-tree under `prefix`) and `load_from` (a whole
// detector). As in mmengine, load_from is applied after init_cfg and wins where both set a weight.
// The loading itself goes through the converter (src/mapping); this resolves and checks the
// config side before anything heavy runs.

import { existsSync } from 'node:fs';
import type { ReadOptions } from '../checkpoint/read.js';
import { InputError } from '../errors.js';
import type { TrainConfig } from './types.js';

export interface WeightSource {
  /** Which config key asked for it. */
  origin: 'model.backbone.init_cfg' | 'load_from';
  /** What receives the weights: the backbone (canonical names without `backbone.`) or the whole detector. */
  target: 'backbone' | 'detector';
  /** Absolute path: a .pth file, or a directory written by `torchport convert` / a training checkpoint. */
  checkpoint: string;
  /** mmengine's prefix: keep only the keys under it, prefix removed (e.g. 'backbone.'). */
  prefix?: string;
  /** Force this mapping (name or .json path) instead of auto-detection. */
  mapping?: string;
  /** The model the mapping engine should target (the backbone's registry name for init_cfg). */
  model?: string;
  /** How to read a .pth file (`finetune --strict`, `--no-verify`). */
  read?: ReadOptions;
  /** Take the state dict (or module) from this top-level key of a .pth file (`finetune --key`). */
  key?: string;
}

/** How `finetune` reads its .pth sources: the reading flags, applied to init_cfg and load_from alike. */
export interface SourceReading {
  read?: ReadOptions;
  key?: string;
}

/** The weight sources of a validated config, in the order to apply them; missing files are errors. */
export function resolveWeightSources(cfg: TrainConfig, file?: string, reading: SourceReading = {}): WeightSource[] {
  const out: WeightSource[] = [];
  const init = cfg.model.backbone.init_cfg;
  if (init) {
    out.push({
      origin: 'model.backbone.init_cfg',
      target: 'backbone',
      checkpoint: init.checkpoint,
      ...(init.prefix ? { prefix: init.prefix } : {}),
      ...(init.mapping ? { mapping: init.mapping } : {}),
      model: cfg.model.backbone.type,
      ...reading,
    });
  }
  if (cfg.load_from) out.push({ origin: 'load_from', target: 'detector', checkpoint: cfg.load_from, ...reading });
  for (const s of out) {
    if (!existsSync(s.checkpoint)) {
      const key = s.origin === 'load_from' ? 'load_from' : 'model.backbone.init_cfg.checkpoint';
      throw new InputError(`${key}: ${s.checkpoint} does not exist (paths are relative to the config file that sets them)`, file);
    }
  }
  return out;
}
