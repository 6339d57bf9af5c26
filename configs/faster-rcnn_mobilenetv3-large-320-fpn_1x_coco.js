// torchvision's `fasterrcnn_mobilenet_v3_large_320_fpn`: the low-resolution variant (short side
// 320, long side at most 640, 150 proposals before and after NMS at test time).
// Start from a converted torchvision detector checkpoint with
//   --cfg-options load_from=path/to/fasterrcnn_mobilenet_v3_large_320_fpn.pth
export default {
  _base_: [
    './_base_/models/faster-rcnn_mobilenetv3-fpn.js',
    './_base_/datasets/coco_detection.js',
    './_base_/schedules/schedule_1x.js',
    './_base_/default_runtime.js',
  ],
  model: {
    rpn: { preNmsTopN: { train: 2000, test: 150 }, postNmsTopN: { train: 2000, test: 150 } },
    transform: { minSize: 320, maxSize: 640 },
  },
};
