// mmdetection's 1x schedule: 12 epochs, SGD momentum 0.9, weight decay 1e-4, linear warm-up over
// 500 iterations from 0.001x, learning rate x0.1 after epochs 8 and 11. lr 0.02 is for 16 images
// per batch; scale it linearly with data.batchSize.
export default {
  optimizer: { type: 'SGD', lr: 0.02, momentum: 0.9, weightDecay: 1e-4 },
  clipGrad: null,
  paramScheduler: [
    { type: 'LinearLR', startFactor: 0.001, byEpoch: false, begin: 0, end: 500 },
    { type: 'MultiStepLR', byEpoch: true, begin: 0, end: 12, milestones: [8, 11], gamma: 0.1 },
  ],
  trainCfg: { maxEpochs: 12, valInterval: 1 },
};
