// torchport's library API: everything the CLI does is available from here.
export { InputError } from './errors.js';
export type { DType, TensorData, TorchTensor, StateDict, StateDictMetadata } from './checkpoint/types.js';
export type { ParamKind, ParamSpec, FeatureInfo } from './models/params.js';
export { Registry, RegistryError } from './models/registry.js';
export { encodeNpy, decodeNpy } from './io/npy.js';
// checkpoint exports
// mapping exports
// model exports
export { backbones, type BackboneFactory } from './models/backbones/registry.js';
export type { Backbone, BackboneOutput, ForwardOptions } from './models/backbones/types.js';
export {
  createMobileNetV3,
  makeDivisible,
  mobileNetV3Layout,
  type MobileNetV3,
  type MobileNetV3Options,
  type ResolvedMobileNetV3Options,
  type MobileNetV3Layout,
  type BlockLayout,
  type Family,
} from './models/backbones/mobilenetv3/index.js';
export { type WeightMap, weight, checkWeights } from './models/layers/weights.js';
export { hardSigmoid, hardSwish, activate, type Activation } from './models/layers/activations.js';
export { batchNormParams, batchNormScaleShift, batchNormTrain, type BatchNormParams, type NormMode, type RunningStats } from './models/layers/batchnorm.js';
export { convBnAct, type ConvOptions } from './models/layers/conv.js';
export { squeezeExcite } from './models/layers/se.js';
export { batchNormSpecs, convBnSpecs, denseSpecs, squeezeExciteSpecs, numel } from './models/layers/specs.js';
export { initWeights, torchvisionInit, type InitRule } from './models/layers/init.js';
// backend exports
// train/data/eval/config exports
