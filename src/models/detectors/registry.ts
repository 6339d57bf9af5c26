// Detectors by name: each builds a model from its config object.
import { Registry } from '../../registry.js';
import type { FasterRCNNConfig } from '../detection/config.js';
import { createFasterRCNN, type FasterRCNN } from '../detection/faster-rcnn.js';

export type DetectorBuilder = (config: FasterRCNNConfig) => FasterRCNN;

export const detectors = new Registry<DetectorBuilder>('detector');
detectors.register('FasterRCNN', createFasterRCNN);
