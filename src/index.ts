// torchport's library API: everything the CLI does is available from here.
export { InputError } from './errors.js';
export type { DType, TensorData, TorchTensor, StateDict, StateDictMetadata } from './checkpoint/types.js';
export type { ParamKind, ParamSpec, FeatureInfo } from './models/params.js';
export { Registry, RegistryError } from './models/registry.js';
export { encodeNpy, decodeNpy } from './io/npy.js';
// checkpoint exports
// mapping exports
// model exports
// backend exports
// train/data/eval/config exports
