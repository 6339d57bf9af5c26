// A whole Faster R-CNN as one graph: image `[1, H, W, 3]` (RGB, 0-255, float32) in; `boxes`
// `[N, 4]` (x1, y1, x2, y2 in input pixels), `scores` `[N]`, `labels` `[N]` (int32) out.
import type { MobileNetV3 } from '../../models/backbones/mobilenetv3/index.js';
import type { FasterRCNN } from '../../models/faster-rcnn/faster-rcnn.js';
import { neckInChannels } from '../../models/faster-rcnn/specs.js';
import { subWeights } from '../../models/faster-rcnn/weights.js';
import type { WeightMap } from '../../models/layers/weights.js';
import { fpnGraph } from './fpn.js';
import { attr, GraphBuilder, UnsupportedOpError } from './graph.js';
import { mobileNetV3Graph } from './mobilenetv3.js';
import { Ops } from './ops.js';
import { preprocessGraph } from './preprocess.js';
import { proposalsGraph } from './proposals.js';
import { multiScaleRoIAlignGraph } from './roi-align.js';
import { roiHeadGraph } from './roi-head.js';
import { GraphWeights } from './weights.js';

export interface BuiltGraph {
  graph: GraphBuilder;
  signature: Record<string, unknown>;
}

const tensorInfo = (name: string, dtype: 'DT_FLOAT' | 'DT_INT32', dims: number[]) => ({ name: `${name}:0`, dtype, tensorShape: { dim: dims.map((d) => ({ size: String(d) })) } });

/** The backbone's graph builder; only MobileNetV3 has one. */
export function backboneGraphFor(backbone: object, type: string): MobileNetV3 {
  if (!('layout' in backbone && 'options' in backbone)) throw new UnsupportedOpError(`a graph builder for backbone '${type}'`, 'backbone');
  return backbone as MobileNetV3;
}

export function detectorGraph(model: FasterRCNN, weights: WeightMap): BuiltGraph {
  const g = new GraphBuilder();
  const o = new Ops(g);
  const { config } = model;
  const net = backboneGraphFor(model.backbone, config.backbone.type);
  const input = g.named('image', 'Placeholder', [], { dtype: attr.type('float32'), shape: attr.shape([1, -1, -1, 3]) });
  const pre = preprocessGraph(o, config.transform, input);
  const backboneOut = g.scope('backbone', () => mobileNetV3Graph(o, new GraphWeights(g, subWeights(weights, 'backbone.')), net, pre.image, config.backbone.outIndices, false));
  const info = config.backbone.outIndices.map((i) => model.backbone.featureInfo.find((f) => f.index === i)!);
  const fpn = g.scope('neck', () =>
    fpnGraph(o, new GraphWeights(g, subWeights(weights, 'neck.')), config.neck, neckInChannels(config, model.backbone.featureInfo), backboneOut.features, info.map((f) => f.stride)),
  );
  const proposals = proposalsGraph(o, new GraphWeights(g, subWeights(weights, 'rpn.')), config.rpn, { features: fpn.outputs, padded: pre.padded, resized: pre.resized });
  const levels = config.roiHead.featmapLevels;
  const pooled = multiScaleRoIAlignGraph(o, config.roiHead, levels.map((l) => fpn.outputs[l]), levels.map((l) => fpn.strides[l]), config.neck.outChannels, proposals, pre.resized);
  const det = roiHeadGraph(o, new GraphWeights(g, subWeights(weights, 'roi_head.')), config.roiHead, pooled, proposals, pre.resized);
  // back to input pixels: the float32 ratio original / resized per axis
  const ratio = o.gather(o.div(pre.original, pre.resized), o.ints([1, 0, 1, 0]), 0);
  g.named('boxes', 'Identity', [o.mul(det.boxes, ratio)], { T: attr.type('float32') });
  g.named('scores', 'Identity', [det.scores], { T: attr.type('float32') });
  g.named('labels', 'Cast', [det.labels], { SrcT: attr.type('float32'), DstT: attr.type('int32'), Truncate: attr.bool(false) });
  return {
    graph: g,
    signature: {
      inputs: { image: tensorInfo('image', 'DT_FLOAT', [1, -1, -1, 3]) },
      outputs: { boxes: tensorInfo('boxes', 'DT_FLOAT', [-1, 4]), scores: tensorInfo('scores', 'DT_FLOAT', [-1]), labels: tensorInfo('labels', 'DT_INT32', [-1]) },
    },
  };
}
