// FPN parameter layout, without TF.js (the mapping engine reads specs without loading TF.js).
// Parameters: `lateral.{i}`, `output.{i}`, `extra.{j}` (each `.weight` HWIO and `.bias`).
import { InputError } from '../../errors.js';
import type { FPNConfig } from '../faster-rcnn/config.js';
import { convSpecs } from '../faster-rcnn/conv-specs.js';
import type { ParamSpec } from '../../mapping/params.js';

export interface FPNLayout {
  numIns: number;
  numOuts: number;
  numExtra: number;
  /** Extra levels are stride-2 convs (mmdetection's add_extra_convs), not max-pool. */
  extraConvs: boolean;
  specs: ParamSpec[];
}

export function fpnLayout(config: FPNConfig, inChannels: number[]): FPNLayout {
  const numIns = inChannels.length;
  const numOuts = config.numOuts ?? numIns + (config.extra === false ? 0 : 1);
  const numExtra = numOuts - numIns;
  if (numExtra < 0) throw new InputError(`FPN numOuts ${numOuts} is below its ${numIns} inputs`);
  if (numExtra > 0 && config.extra === false) {
    throw new InputError(`FPN numOuts ${numOuts} needs ${numExtra} extra level(s) but extra is false`);
  }
  const out = config.outChannels;
  const extraConvs = config.extra !== false && config.extra !== 'pool';
  if (config.reluBeforeExtraConvs && !extraConvs) {
    throw new InputError(`FPN reluBeforeExtraConvs acts on extra convolutions, but extra is ${JSON.stringify(config.extra)}`);
  }
  const specs: ParamSpec[] = [];
  inChannels.forEach((c, i) => specs.push(...convSpecs(`lateral.${i}`, 1, c, out)));
  inChannels.forEach((_, i) => specs.push(...convSpecs(`output.${i}`, 3, out, out)));
  if (extraConvs) {
    for (let j = 0; j < numExtra; j++) {
      const cin = j === 0 && config.extra === 'on_input' ? inChannels[numIns - 1] : out;
      specs.push(...convSpecs(`extra.${j}`, 3, cin, out));
    }
  }
  return { numIns, numOuts, numExtra, extraConvs, specs };
}
