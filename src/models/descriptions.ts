// Models as the mapping engine sees them: declared parameters and feature info, built WITHOUT
// TF.js (the backbone's index module imports tfjs-core for its forward pass, so `diff`, `features`
// and auto-detection build specs from its TF.js-free parts). Other model families register here.
import { InputError } from '../errors.js';
import { describeMobileNetV3 } from './backbones/mobilenetv3/describe.js';
import type { MobileNetV3Options } from './backbones/mobilenetv3/options.js';
import { Registry, RegistryError } from '../registry.js';
import { DETECTOR_MODELS, describeDetector } from './detectors/torchvision.js';
import type { DescribeModel, ModelDescription } from '../mapping/detect.js';
import type { ModelOptions } from '../mapping/types.js';

/** Model name → its TF.js-free description (specs + feature info) for given options. */
export const modelDescriptions = new Registry<(options: ModelOptions) => ModelDescription>('model');

function mobileNetV3(variant: 'large' | 'small') {
  return (options: ModelOptions): ModelDescription => {
    const { specs, featureInfo } = describeMobileNetV3({ ...(options as Partial<MobileNetV3Options>), variant });
    return { specs, featureInfo };
  };
}

modelDescriptions.register('mobilenetv3_large', mobileNetV3('large'));
modelDescriptions.register('mobilenetv3_small', mobileNetV3('small'));
for (const name of DETECTOR_MODELS) modelDescriptions.register(name, (options) => describeDetector(name, options, describeModel));

/** Describes `model` with `options`; unknown names and bad options are InputErrors. */
export const describeModel: DescribeModel = (model, options) => {
  try {
    return modelDescriptions.get(model)(options);
  } catch (err) {
    if (err instanceof RegistryError) throw new InputError(err.message);
    throw err;
  }
};
