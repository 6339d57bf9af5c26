// Detectors by name: each builds a model from its config object.
import { Registry } from '../../registry.js';
import type { FasterRCNNConfig } from '../faster-rcnn/config.js';
import { createFasterRCNN, type FasterRCNN } from '../faster-rcnn/faster-rcnn.js';

export type DetectorBuilder = (config: FasterRCNNConfig) => FasterRCNN;

export const detectors = new Registry<DetectorBuilder>('detector');
detectors.register('FasterRCNN', createFasterRCNN);
