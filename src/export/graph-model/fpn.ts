// The FPN as a graph (src/models/necks/fpn.ts): laterals, top-down nearest upsampling to the
// lateral's size (skipped where both levels have the same stride), output convs, extra levels.
import type { FPNConfig } from '../../models/faster-rcnn/config.js';
import { fpnLayout } from '../../models/necks/fpn-specs.js';
import type { Ops } from './ops.js';
import type { GraphWeights } from './weights.js';

/** `inputs` with their strides; returns the outputs and their strides, finest first. */
export function fpnGraph(o: Ops, w: GraphWeights, config: FPNConfig, inChannels: number[], inputs: string[], strides: number[]): { outputs: string[]; strides: number[] } {
  const { numIns, numExtra, extraConvs } = fpnLayout(config, inChannels);
  const conv = (x: string, prefix: string, stride = 1) =>
    o.g.scope(prefix, () => {
      const k = w.tensor(`${prefix}.weight`);
      return o.conv(x, w.constant(`${prefix}.weight`), { stride, pad: Math.floor(k.shape[0] / 2), bias: w.constant(`${prefix}.bias`) });
    });
  const laterals = inputs.map((x, i) => conv(x, `lateral.${i}`));
  const merged: string[] = new Array(numIns);
  merged[numIns - 1] = laterals[numIns - 1];
  for (let i = numIns - 2; i >= 0; i--) {
    let top = merged[i + 1];
    if (strides[i] !== strides[i + 1]) {
      const size = o.slice(o.shape(laterals[i]), [1], [2], 'int32');
      top = o.g.op('ResizeNearestNeighbor', [top, size], { T: { type: 'DT_FLOAT' }, align_corners: { b: false }, half_pixel_centers: { b: false } });
    }
    merged[i] = o.add(laterals[i], top);
  }
  const outputs = merged.map((x, i) => conv(x, `output.${i}`));
  const outStrides = [...strides];
  for (let j = 0; j < numExtra; j++) {
    const prev = outputs[outputs.length - 1];
    if (!extraConvs) outputs.push(o.pool('MaxPool', prev, [1, 1], [2, 2]));
    else {
      let source: string;
      if (j > 0) source = config.reluBeforeExtraConvs ? o.relu(prev) : prev;
      else if (config.extra === 'on_input') source = inputs[numIns - 1];
      else if (config.extra === 'on_lateral') source = merged[numIns - 1];
      else source = prev;
      outputs.push(conv(source, `extra.${j}`, 2));
    }
    outStrides.push(outStrides[outStrides.length - 1] * 2);
  }
  return { outputs, strides: outStrides };
}
