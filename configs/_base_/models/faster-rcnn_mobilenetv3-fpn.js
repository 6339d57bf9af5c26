// Faster R-CNN with a MobileNetV3-Large + FPN backbone, exactly torchvision's
// `fasterrcnn_mobilenet_v3_large_fpn` (numbers read from the torchvision 0.14 model object; see
// src/models/detection/config.ts). Override sections in a config that inherits this one.
export default {
  model: {
    type: 'FasterRCNN',
    backbone: {
      type: 'mobilenetv3_large',
      // torchvision's extractor taps features[13] (160 ch) and features[16] (960 ch), both stride 32.
      outIndices: [13, 16],
      // torchvision fine-tunes a pretrained backbone with 3 trainable stages and FrozenBatchNorm:
      // features[0..6] frozen, BatchNorm statistics fixed.
      frozenStages: 6,
      normEval: true,
      // The detection builders use nn.BatchNorm2d's defaults (FrozenBatchNorm2d's eps when
      // pretrained), not the classifier's 1e-3 / 0.01.
      bnEps: 1e-5,
      bnMomentum: 0.1,
    },
    neck: { type: 'FPN', inChannels: 'auto', outChannels: 256, extra: 'pool' },
    rpn: {
      anchors: {
        type: 'torchvision',
        sizes: [[32, 64, 128, 256, 512], [32, 64, 128, 256, 512], [32, 64, 128, 256, 512]],
        aspectRatios: [[0.5, 1, 2], [0.5, 1, 2], [0.5, 1, 2]],
      },
      preNmsTopN: { train: 2000, test: 1000 },
      postNmsTopN: { train: 2000, test: 1000 },
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
      featmapLevels: [0, 1],
      outputSize: 7,
      samplingRatio: 2,
      aligned: false,
      canonicalScale: 224,
      canonicalLevel: 4,
      representationSize: 1024,
      // Including background; 'auto' = the dataset's categories + 1.
      numClasses: 'auto',
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
      minSize: 800,
      maxSize: 1333,
      imageMean: [0.485, 0.456, 0.406],
      imageStd: [0.229, 0.224, 0.225],
      sizeDivisible: 32,
    },
  },
};
