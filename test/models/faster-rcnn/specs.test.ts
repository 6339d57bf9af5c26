// The full-size detector's declared parameters equal torchvision's state dict (through the mapping),
// and the torchvision defaults equal what the real torchvision 0.14 model objects hold.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectForSources } from '../../../src/models/map-checkpoint.js';
import type { SourceSpec } from '../../../src/mapping/plan.js';
import { fasterrcnnMobileNetV3Large320FPN, fasterrcnnMobileNetV3LargeFPN, type FasterRCNNConfig } from '../../../src/models/faster-rcnn/config.js';
import { json } from './helpers.js';

const keys = json<Record<string, Record<string, number[]>>>('fullsize_keys.json');
const expected = json('expected.json');

function sources(model: string): SourceSpec[] {
  return Object.entries(keys[model]).map(([key, shape]) => ({ key, shape, dtype: key.endsWith('num_batches_tracked') ? 'int64' : 'float32' }));
}

for (const model of ['fasterrcnn_mobilenet_v3_large_320_fpn', 'fasterrcnn_mobilenet_v3_large_fpn']) {
  test(`${model} (full size, 91 classes): every torchvision key maps onto exactly one parameter of ours, same shapes`, () => {
    const src = sources(model);
    assert.equal(src.length, 330);
    const { best } = detectForSources(src, { model });
    assert.equal(best.mapping.name, 'torchvision-fasterrcnn');
    const { plan } = best;
    assert.deepEqual(plan.missing, []);
    assert.deepEqual(plan.unexpected, []);
    assert.deepEqual(plan.mismatched, []);
    assert.deepEqual(plan.conflicts, []);
    assert.ok(plan.ignored.every((i) => i.source.endsWith('num_batches_tracked')));
    assert.equal(plan.matched.length + plan.ignored.length, 330);
    assert.equal(plan.matched.length, best.description.specs.length);
    assert.equal(best.options.numClasses, 91);
    assert.equal(best.options.fpnChannels, 256);
    assert.equal(best.options.representationSize, 1024);
    const fc6 = plan.matched.find((m) => m.source === 'roi_heads.box_head.fc6.weight');
    assert.deepEqual(fc6?.shape, [256 * 7 * 7, 1024]);
  });
}

function referenceOf(config: FasterRCNNConfig) {
  const { rpn, roiHead, transform } = config;
  const anchors = rpn.anchors.type === 'torchvision' ? rpn.anchors : assert.fail('torchvision anchors expected');
  return {
    min_size: [transform.minSize],
    max_size: transform.maxSize,
    image_mean: transform.imageMean,
    image_std: transform.imageStd,
    size_divisible: transform.sizeDivisible,
    rpn_pre_nms_top_n_train: rpn.preNmsTopN.train,
    rpn_pre_nms_top_n_test: rpn.preNmsTopN.test,
    rpn_post_nms_top_n_train: rpn.postNmsTopN.train,
    rpn_post_nms_top_n_test: rpn.postNmsTopN.test,
    rpn_nms_thresh: rpn.nmsThresh,
    rpn_fg_iou_thresh: rpn.fgIouThresh,
    rpn_bg_iou_thresh: rpn.bgIouThresh,
    rpn_batch_size_per_image: rpn.batchSizePerImage,
    rpn_positive_fraction: rpn.positiveFraction,
    rpn_score_thresh: rpn.scoreThresh,
    rpn_min_size: rpn.minSize,
    rpn_bbox_reg_weights: rpn.bboxRegWeights,
    box_score_thresh: roiHead.scoreThresh,
    box_nms_thresh: roiHead.nmsThresh,
    box_detections_per_img: roiHead.detectionsPerImg,
    box_fg_iou_thresh: roiHead.fgIouThresh,
    box_bg_iou_thresh: roiHead.bgIouThresh,
    box_batch_size_per_image: roiHead.batchSizePerImage,
    box_positive_fraction: roiHead.positiveFraction,
    bbox_reg_weights: roiHead.bboxRegWeights,
    anchor_sizes: anchors.sizes,
    aspect_ratios: anchors.aspectRatios,
    return_layers: Object.fromEntries(config.backbone.outIndices.map((i, k) => [String(i), String(k)])),
    fpn_out_channels: config.neck.outChannels,
    fpn_extra: config.neck.extra === 'pool' ? 'LastLevelMaxPool' : String(config.neck.extra),
    roi_output_size: [roiHead.outputSize, roiHead.outputSize],
    roi_sampling_ratio: roiHead.samplingRatio,
    roi_canonical_scale: roiHead.canonicalScale,
    roi_canonical_level: roiHead.canonicalLevel,
    representation_size: roiHead.representationSize,
    num_classes: roiHead.numClasses,
    backbone_bn_eps: config.backbone.bnEps,
    backbone_bn_momentum: config.backbone.bnMomentum,
  };
}

test('torchvision defaults equal the settings read off the real model objects', () => {
  for (const [config, ref] of [
    [fasterrcnnMobileNetV3Large320FPN(), expected.reference320],
    [fasterrcnnMobileNetV3LargeFPN(), expected.referenceFpn],
  ] as const) {
    const ours = referenceOf(config);
    for (const [k, v] of Object.entries(ours)) assert.deepEqual(v, ref[k], k);
    assert.deepEqual(ref.roi_featmap_names.filter((name: string) => ['0', '1'].includes(name)).map(Number), config.roiHead.featmapLevels);
    assert.equal(config.neck.inChannels, 'auto');
    assert.deepEqual(ref.fpn_in_channels, [160, 960]);
  }
});
