// The shape of a fine-tuning config after loading and validation. Keys follow mmdetection's
// layout in camelCase (`optimizer`, `paramScheduler`, `trainCfg`, ...); `init_cfg`, `load_from`
// and `_base_`/`_delete_` keep mmdetection's spelling.

import type { DataSection } from '../data/datasets.js';
import type { BackboneConfig, FPNConfig, InitScheme, RPNConfig, RoIHeadConfig, TransformConfig } from '../models/faster-rcnn/config.js';

/** `init_cfg: {type: 'Pretrained', checkpoint, prefix?}`: load a (sub-)checkpoint through the converter. */
export interface PretrainedInit {
  type: 'Pretrained';
  /** Absolute path after loading. */
  checkpoint: string;
  /** Take only the keys under this prefix (e.g. 'backbone.'), prefix removed. */
  prefix?: string;
  /** Force a mapping (name or file) instead of auto-detection. */
  mapping?: string;
}

export interface ModelSection {
  type: string;
  backbone: BackboneConfig & { init_cfg?: PretrainedInit };
  neck: Omit<FPNConfig, 'inChannels'> & { inChannels?: number[] | 'auto' };
  rpn: RPNConfig;
  /** `numClasses: 'auto'` takes the dataset's categories + 1 (background). */
  roiHead: Omit<RoIHeadConfig, 'numClasses'> & { numClasses: number | 'auto' };
  transform: TransformConfig;
  classNames?: string[];
  /** How fresh neck/head parameters are drawn: torchvision's defaults or mmdetection's init_cfg. */
  initScheme?: InitScheme;
}

export interface TrainConfig {
  customImports: string[];
  model: ModelSection;
  data: DataSection;
  optimizer: { type: string; lr: number; momentum?: number; weightDecay?: number; nesterov?: boolean };
  /** Gradient clipping by global norm, or null for none. */
  clipGrad: { maxNorm: number } | null;
  paramScheduler: Record<string, unknown>[];
  /** Epoch-based (maxEpochs) or iteration-based (maxIters) loop: exactly one is set, the other null. */
  trainCfg: { maxEpochs: number | null; maxIters?: number | null; valInterval: number };
  workDir: string;
  seed: number;
  backend: 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
  logInterval: number;
  checkpointInterval: number;
  /** A whole-detector checkpoint (converted dir or .pth) to start from; absolute after loading. */
  load_from: string | null;
  resume: boolean;
}
