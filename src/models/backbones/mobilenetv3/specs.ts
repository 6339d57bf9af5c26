// Every parameter and buffer of a MobileNetV3, with canonical names and TF.js-layout shapes.
import type { ParamSpec } from '../../../mapping/params.js';
import { convBnSpecs, denseSpecs, squeezeExciteSpecs } from '../../layers/specs.js';
import type { MobileNetV3Layout } from './layout.js';

/** Specs in PyTorch registration order; parameters of features[0..frozenStages] are not trainable. */
export function mobileNetV3Specs(layout: MobileNetV3Layout, numClasses: number, frozenStages: number): ParamSpec[] {
  const perLayer: ParamSpec[][] = [convBnSpecs('features.0', 3, 3, layout.stemChannels)];
  for (const b of layout.blocks) {
    const p = `features.${b.index}`;
    perLayer.push([
      ...(b.expanded !== b.inChannels ? convBnSpecs(`${p}.expand`, 1, b.inChannels, b.expanded) : []),
      ...convBnSpecs(`${p}.dw`, b.kernel, b.expanded, b.expanded, true),
      ...(b.squeeze > 0 ? squeezeExciteSpecs(`${p}.se`, b.expanded, b.squeeze) : []),
      ...convBnSpecs(`${p}.project`, 1, b.expanded, b.outChannels),
    ]);
  }
  const last = layout.blocks.length + 1;
  perLayer.push(convBnSpecs(`features.${last}`, 1, layout.blocks[layout.blocks.length - 1].outChannels, layout.lastChannels));
  const specs = perLayer.flatMap((layer, i) => (i <= frozenStages ? layer.map((s) => ({ ...s, trainable: false })) : layer));
  if (numClasses > 0) {
    specs.push(...denseSpecs('classifier.fc1', layout.lastChannels, layout.classifierHidden));
    specs.push(...denseSpecs('classifier.fc2', layout.classifierHidden, numClasses));
  }
  return specs;
}
