// The demo: the torchvision 320 detector fine-tuned on the synthetic shapes dataset
// (`torchport make-dataset shapes --out data/shapes`) in a few minutes on a CPU.
// Sized for the CPU: small inputs, anchors scaled to the small images, and far fewer sampled
// anchors and RoIs per image than torchvision's defaults (see shared perf notes: the box head on
// 512 RoIs per image dominates a CPU step).
export default {
  _base_: ['./faster-rcnn_mobilenetv3-large-320-fpn_1x_coco.js'],
  model: {
    rpn: {
      anchors: {
        sizes: [[16, 32, 64, 128, 256], [16, 32, 64, 128, 256], [16, 32, 64, 128, 256]],
      },
      preNmsTopN: { train: 600, test: 150 },
      postNmsTopN: { train: 300, test: 150 },
      batchSizePerImage: 64,
    },
    roiHead: { batchSizePerImage: 32 },
    // 128x128 images are resized to 160x160.
    transform: { minSize: 160, maxSize: 320 },
  },
  data: { root: '../data/shapes', batchSize: 4, valBatchSize: 4 },
  optimizer: { lr: 0.01 },
  paramScheduler: [
    { type: 'LinearLR', startFactor: 0.01, byEpoch: false, begin: 0, end: 50 },
    { type: 'MultiStepLR', byEpoch: true, begin: 0, end: 8, milestones: [6], gamma: 0.1 },
  ],
  trainCfg: { maxEpochs: 8, valInterval: 2 },
  logInterval: 5,
};
