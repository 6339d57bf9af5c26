// The classic setup, mmdetection-shaped: d-li14's MobileNetV3-Large (mobilenetv3.pytorch) as the
// backbone of a Faster R-CNN with a 5-level FPN, pretrained backbone weights through init_cfg.
// Nothing is retyped by hand: the FPN's inChannels ([24, 40, 80, 160]) come from
// the backbone's outIndices, and the weights load through the d-li14 mapping with a report.
export default {
  _base_: [
    './_base_/models/faster-rcnn_mobilenetv3-fpn.js',
    './_base_/datasets/coco_detection.js',
    './_base_/schedules/schedule_1x.js',
    './_base_/default_runtime.js',
  ],
  model: {
    backbone: {
      family: 'dli14',
      // features[2, 5, 9, 14]: strides 4, 8, 16, 32.
      outIndices: [2, 5, 9, 14],
      // mmdetection-style freezing: the stem only.
      frozenStages: 0,
      normEval: true,
      init_cfg: { type: 'Pretrained', checkpoint: '../pretrain/mobilenetv3-large-1cd25616.pth' },
    },
    // mmdetection's FPN(out_channels=256, num_outs=5): 4 inputs + a max-pooled 5th level.
    neck: { inChannels: 'auto', outChannels: 256, numOuts: 5, extra: 'pool' },
    rpn: {
      // mmdetection's AnchorGenerator(scales=[8], ratios=[0.5, 1, 2], strides=[4, 8, 16, 32, 64]).
      anchors: { _delete_: true, type: 'mmdet', strides: [4, 8, 16, 32, 64], scales: [8], ratios: [0.5, 1, 2] },
      preNmsTopN: { train: 2000, test: 1000 },
      postNmsTopN: { train: 1000, test: 1000 },
      scoreThresh: 0,
      minSize: 0,
    },
    // mmdetection's SingleRoIExtractor(RoIAlign(7, sampling_ratio=0), featmap_strides=[4, 8, 16, 32]).
    roiHead: { featmapLevels: [0, 1, 2, 3], samplingRatio: 0, aligned: true },
    transform: { minSize: 800, maxSize: 1333 },
    // fresh FPN and heads drawn as mmdetection's init_cfg defaults draw them
    initScheme: 'mmdet',
  },
};
