// A MobileNetV3's options, layout, parameter specs and feature info, without TF.js: what the
// mapping engine, `diff` and `features` need (they must stay fast and not load tfjs).
import type { FeatureInfo, ParamSpec } from '../../../mapping/params.js';
import { mobileNetV3Layout, type MobileNetV3Layout } from './layout.js';
import { resolveOptions, type MobileNetV3Options, type ResolvedMobileNetV3Options } from './options.js';
import { mobileNetV3Specs } from './specs.js';

export interface MobileNetV3Description {
  options: ResolvedMobileNetV3Options;
  layout: MobileNetV3Layout;
  specs: ParamSpec[];
  featureInfo: FeatureInfo[];
}

/** Validates `opts` (InputError on bad values) and declares the model they describe. */
export function describeMobileNetV3(opts: MobileNetV3Options): MobileNetV3Description {
  const options = resolveOptions(opts);
  const layout = mobileNetV3Layout(options.variant, options.widthMult, options.family);
  return { options, layout, specs: mobileNetV3Specs(layout, options.numClasses, options.frozenStages), featureInfo: layout.featureInfo };
}
