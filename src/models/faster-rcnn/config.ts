// The configuration of a two-stage detector (backbone → FPN → RPN → RoI head), expressive enough
// for torchvision's and mmdetection's Faster R-CNN. Every default below was read from the real
// torchvision 0.14 model objects (`fasterrcnn_mobilenet_v3_large_fpn` / `_320_fpn`, built with
// weights=None, weights_backbone=None), not from memory.

/** `type` names a builder in the backbone registry; the other fields are its options. */
export interface BackboneConfig {
  type: string;
  /** Which `features[i]` outputs feed the neck (timm semantics: the index of the layer). */
  outIndices: number[];
  [option: string]: unknown;
}

/**
 * The level(s) above the last input level:
 * - `'pool'`: torchvision's LastLevelMaxPool (max-pool kernel 1, stride 2 of the last output);
 *   also mmdetection's `add_extra_convs=False`.
 * - `'on_input' | 'on_lateral' | 'on_output'`: mmdetection's extra 3x3 stride-2 convs, the first
 *   one fed by the last backbone input, the last lateral, or the last FPN output.
 * - `false`: no extra level (`numOuts` must equal the number of inputs).
 */
export type FPNExtra = 'pool' | 'on_input' | 'on_lateral' | 'on_output' | false;

export interface FPNConfig {
  type: 'FPN';
  /** Channels of each backbone output; `'auto'` reads them from the backbone's FeatureInfo. */
  inChannels: number[] | 'auto';
  outChannels: number;
  /** Number of output levels; defaults to the inputs plus one extra level when `extra` is set. */
  numOuts?: number;
  extra: FPNExtra;
  /** mmdetection's `relu_before_extra_convs`: ReLU before each extra conv after the first. */
  reluBeforeExtraConvs?: boolean;
}

/** torchvision's AnchorGenerator: per level, sizes and aspect ratios (h/w); anchors are rounded. */
export interface TorchvisionAnchorConfig {
  type: 'torchvision';
  sizes: number[][];
  aspectRatios: number[][];
}

/** mmdetection's AnchorGenerator: base size = stride, times each scale, for each ratio (h/w). */
export interface MMDetAnchorConfig {
  type: 'mmdet';
  strides: number[];
  scales: number[];
  ratios: number[];
  /** mmdetection's `center_offset` (0 puts the anchor centre on the cell's top-left corner). */
  centerOffset?: number;
}

export type AnchorConfig = TorchvisionAnchorConfig | MMDetAnchorConfig;

export interface TrainTest {
  train: number;
  test: number;
}

export interface RPNConfig {
  anchors: AnchorConfig;
  preNmsTopN: TrainTest;
  postNmsTopN: TrainTest;
  nmsThresh: number;
  scoreThresh: number;
  /** Proposals with a side below this (pixels of the transformed image) are dropped. */
  minSize: number;
  fgIouThresh: number;
  bgIouThresh: number;
  batchSizePerImage: number;
  positiveFraction: number;
  /** Box coder weights (wx, wy, ww, wh). */
  bboxRegWeights: [number, number, number, number];
}

export interface RoIHeadConfig {
  /** Indices into the FPN outputs that RoIAlign pools from (torchvision: featmap names present). */
  featmapLevels: number[];
  outputSize: number;
  /** Sample points per bin side; <= 0 means adaptive (ceil(bin size)), as in torchvision. */
  samplingRatio: number;
  /** torchvision's `aligned` flag: shift sample points by -0.5 pixel. */
  aligned: boolean;
  /** Level mapping of MultiScaleRoIAlign: level = floor(k0 + log2(sqrt(area) / canonicalScale) + eps). */
  canonicalScale: number;
  canonicalLevel: number;
  representationSize: number;
  /** Number of classes including background, as torchvision counts it. */
  numClasses: number;
  /**
   * Where the background column sits: 'torchvision' (default) first, with box deltas for every
   * column; 'mmdet' last, with box deltas for the foreground columns only.
   */
  classLayout?: 'torchvision' | 'mmdet';
  scoreThresh: number;
  nmsThresh: number;
  detectionsPerImg: number;
  fgIouThresh: number;
  bgIouThresh: number;
  batchSizePerImage: number;
  positiveFraction: number;
  bboxRegWeights: [number, number, number, number];
}

export interface TransformConfig {
  minSize: number;
  maxSize: number;
  imageMean: [number, number, number];
  imageStd: [number, number, number];
  sizeDivisible: number;
}

export interface FasterRCNNConfig {
  backbone: BackboneConfig;
  neck: FPNConfig;
  rpn: RPNConfig;
  roiHead: RoIHeadConfig;
  transform: TransformConfig;
  /** Names of the foreground classes in label order (torchvision: labels 1..K-1). Optional. */
  classNames?: string[];
  /**
   * How fresh neck and head parameters start (src/models/faster-rcnn/init.ts): torchvision's module
   * defaults, or mmdetection's init_cfg defaults. Default 'torchvision'.
   */
  initScheme?: InitScheme;
}

export type InitScheme = 'torchvision' | 'mmdet';

/** Options of the torchvision builders that change the graph. */
export interface TorchvisionFasterRCNNOptions {
  /** Including background (torchvision's `num_classes`); default 91 (COCO). */
  numClasses?: number;
  /** Passed to the backbone as `widthMult` (torchvision's `width_mult`); default 1. */
  widthMult?: number;
  /** FPN `out_channels`; default 256. */
  fpnChannels?: number;
  /** TwoMLPHead width; default 1024. */
  representationSize?: number;
  /** See RoIHeadConfig.classLayout; default 'torchvision'. */
  classLayout?: 'torchvision' | 'mmdet';
}

/** Log of the box coder's clamp on dw/dh: log(1000/16), torchvision's `bbox_xform_clip`. */
export const BBOX_XFORM_CLIP = Math.log(1000 / 16);

function torchvisionMobileNetV3LargeFPN(
  variant: 'fpn' | '320_fpn',
  opts: TorchvisionFasterRCNNOptions,
): FasterRCNNConfig {
  const is320 = variant === '320_fpn';
  const sizes = [32, 64, 128, 256, 512];
  const ratios = [0.5, 1.0, 2.0];
  return {
    backbone: {
      type: 'mobilenetv3_large',
      family: 'torchvision',
      widthMult: opts.widthMult ?? 1,
      // The detection builders pass norm_layer=nn.BatchNorm2d (FrozenBatchNorm2d when pretrained):
      // eps 1e-5 and momentum 0.1, not the classifier's 1e-3 / 0.01.
      bnEps: 1e-5,
      bnMomentum: 0.1,
      // torchvision's _mobilenet_extractor returns the outputs of features[13] and features[16]
      // (stage_indices [0,2,4,7,13,16], returned layers [4,5]): 160 and 960 channels, both stride 32.
      outIndices: [13, 16],
    },
    neck: { type: 'FPN', inChannels: 'auto', outChannels: opts.fpnChannels ?? 256, extra: 'pool' },
    rpn: {
      anchors: { type: 'torchvision', sizes: [sizes, sizes, sizes], aspectRatios: [ratios, ratios, ratios] },
      preNmsTopN: { train: 2000, test: is320 ? 150 : 1000 },
      postNmsTopN: { train: 2000, test: is320 ? 150 : 1000 },
      nmsThresh: 0.7,
      scoreThresh: 0.05,
      minSize: 1e-3,
      fgIouThresh: 0.7,
      bgIouThresh: 0.3,
      batchSizePerImage: 256,
      positiveFraction: 0.5,
      bboxRegWeights: [1, 1, 1, 1],
    },
    roiHead: {
      // MultiScaleRoIAlign(['0','1','2','3']) keeps the names present: '0' and '1' (not 'pool').
      featmapLevels: [0, 1],
      outputSize: 7,
      samplingRatio: 2,
      aligned: false,
      canonicalScale: 224,
      canonicalLevel: 4,
      representationSize: opts.representationSize ?? 1024,
      numClasses: opts.numClasses ?? 91,
      classLayout: opts.classLayout ?? 'torchvision',
      scoreThresh: 0.05,
      nmsThresh: 0.5,
      detectionsPerImg: 100,
      fgIouThresh: 0.5,
      bgIouThresh: 0.5,
      batchSizePerImage: 512,
      positiveFraction: 0.25,
      bboxRegWeights: [10, 10, 5, 5],
    },
    transform: {
      minSize: is320 ? 320 : 800,
      maxSize: is320 ? 640 : 1333,
      imageMean: [0.485, 0.456, 0.406],
      imageStd: [0.229, 0.224, 0.225],
      sizeDivisible: 32,
    },
  };
}

/** torchvision's `fasterrcnn_mobilenet_v3_large_320_fpn` (min_size 320, 150 proposals at test). */
export function fasterrcnnMobileNetV3Large320FPN(opts: TorchvisionFasterRCNNOptions = {}): FasterRCNNConfig {
  return torchvisionMobileNetV3LargeFPN('320_fpn', opts);
}

/** torchvision's `fasterrcnn_mobilenet_v3_large_fpn` (min_size 800, 1000 proposals at test). */
export function fasterrcnnMobileNetV3LargeFPN(opts: TorchvisionFasterRCNNOptions = {}): FasterRCNNConfig {
  return torchvisionMobileNetV3LargeFPN('fpn', opts);
}
