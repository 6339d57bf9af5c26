// Necks by config `type`.
import { Registry } from '../../registry.js';
import type { FPNConfig } from '../faster-rcnn/config.js';
import { createFPN } from './fpn.js';
import type { NeckBuilder } from './types.js';

export const necks = new Registry<NeckBuilder<FPNConfig>>('neck');
necks.register('FPN', createFPN);
