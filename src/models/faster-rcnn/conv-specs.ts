// Parameter declaration of a conv with bias (`<prefix>.weight` HWIO, `<prefix>.bias`); no TF.js.
import type { ParamSpec } from '../../mapping/params.js';

export function convSpecs(prefix: string, kernel: number, inChannels: number, outChannels: number): ParamSpec[] {
  return [
    { name: `${prefix}.weight`, shape: [kernel, kernel, inChannels, outChannels], kind: 'conv2d', trainable: true },
    { name: `${prefix}.bias`, shape: [outChannels], kind: 'vector', trainable: true },
  ];
}
