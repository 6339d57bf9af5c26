// The backbone registry: name → factory taking that backbone's options.
import { Registry } from '../../registry.js';
import { createMobileNetV3, type MobileNetV3, type MobileNetV3Options } from './mobilenetv3/index.js';
import type { Backbone } from './types.js';

/** Builds a backbone from its options; each entry validates its own option type. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type BackboneFactory<O = any, B extends Backbone = Backbone> = (options: O) => B;

export const backbones = new Registry<BackboneFactory>('backbone');

backbones.register('mobilenetv3_large', (opts: Omit<MobileNetV3Options, 'variant'> = {}): MobileNetV3 =>
  createMobileNetV3({ ...opts, variant: 'large' }),
);
backbones.register('mobilenetv3_small', (opts: Omit<MobileNetV3Options, 'variant'> = {}): MobileNetV3 =>
  createMobileNetV3({ ...opts, variant: 'small' }),
);
