// The contract between models and the mapping engine: every parameter a model owns is declared
// with a canonical name, a shape in TF.js layout, and a kind. The kind (not the mapping rule)
// decides how a PyTorch tensor is converted into it.

/**
 * - `conv2d`:    kernel in HWIO `[kh, kw, in, out]` (PyTorch OIHW `[out, in, kh, kw]`)
 * - `depthwise`: kernel `[kh, kw, channels, 1]` (PyTorch `[channels, 1, kh, kw]`)
 * - `dense`:     kernel `[in, out]` (PyTorch Linear `[out, in]`, or a 1x1 conv `[out, in, 1, 1]`)
 * - `vector`:    1-D tensors: biases, BatchNorm gamma/beta/running mean/running var
 */
export type ParamKind = 'conv2d' | 'depthwise' | 'dense' | 'vector';

export interface ParamSpec {
  /** Canonical name, e.g. `features.3.dw.conv.weight` or `backbone.features.0.bn.mean`. */
  name: string;
  /** Shape in TF.js layout (see ParamKind). */
  shape: number[];
  kind: ParamKind;
  /** False for buffers such as BatchNorm running statistics. */
  trainable: boolean;
}

/** Per feature layer of a backbone: the contract a neck reads (timm's feature_info idea). */
export interface FeatureInfo {
  /** Index in the `features[i]` numbering shared by torchvision and d-li14. */
  index: number;
  /** Total downsampling factor of this layer's output relative to the input. */
  stride: number;
  channels: number;
}
