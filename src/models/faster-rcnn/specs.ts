// Every parameter of a Faster R-CNN, derived from its config and the backbone's declared specs and
// feature info, without TF.js (the mapping engine plans conversions from specs alone).
//   neck.lateral.{i} / neck.output.{i} / neck.extra.{j}      conv .weight HWIO, .bias
//   rpn.conv, rpn.objectness, rpn.deltas                      conv .weight HWIO, .bias
//   roi_head.fc6, roi_head.fc7, roi_head.cls_score, roi_head.bbox_pred   dense .weight [in, out], .bias
import { InputError } from '../../errors.js';
import { denseSpecs } from '../layers/specs.js';
import { fpnLayout, type FPNLayout } from '../necks/fpn-specs.js';
import type { FeatureInfo, ParamSpec } from '../../mapping/params.js';
import { anchorsPerLocation, numLevels } from './anchors.js';
import type { FasterRCNNConfig, RoIHeadConfig, RPNConfig } from './config.js';
import { convSpecs } from './conv-specs.js';

export function rpnHeadSpecs(config: RPNConfig, channels: number): ParamSpec[] {
  const a = anchorsPerLocation(config.anchors, 0);
  for (let l = 1; l < numLevels(config.anchors); l++) {
    if (anchorsPerLocation(config.anchors, l) !== a) throw new InputError('the RPN head needs the same number of anchors on every level');
  }
  return [...convSpecs('conv', 3, channels, channels), ...convSpecs('objectness', 1, channels, a), ...convSpecs('deltas', 1, channels, 4 * a)];
}

/**
 * Columns of the class scores and blocks of the box deltas. torchvision: background is column 0,
 * foreground 1..K-1, one delta block per column (K blocks). mmdetection: foreground 0..K-2,
 * background last, delta blocks only for foreground (K-1 blocks). Either way foreground column j
 * uses delta block j, and labels are reported as column indices (the source model's numbering).
 */
export function classColumns(config: RoIHeadConfig): { background: number; foreground: number[]; deltaBlocks: number } {
  const k = config.numClasses;
  const fg = Array.from({ length: k - 1 }, (_, i) => i);
  return (config.classLayout ?? 'torchvision') === 'mmdet'
    ? { background: k - 1, foreground: fg, deltaBlocks: k - 1 }
    : { background: 0, foreground: fg.map((i) => i + 1), deltaBlocks: k };
}

export function roiHeadSpecs(config: RoIHeadConfig, channels: number): ParamSpec[] {
  const rep = config.representationSize;
  return [
    ...denseSpecs('fc6', channels * config.outputSize * config.outputSize, rep),
    ...denseSpecs('fc7', rep, rep),
    ...denseSpecs('cls_score', rep, config.numClasses),
    ...denseSpecs('bbox_pred', rep, 4 * classColumns(config).deltaBlocks),
  ];
}

function prefixed(prefix: string, specs: ParamSpec[]): ParamSpec[] {
  return specs.map((s) => ({ ...s, name: `${prefix}${s.name}` }));
}

/** The channels of the backbone outputs the neck receives (checked against an explicit list). */
export function neckInChannels(config: FasterRCNNConfig, featureInfo: FeatureInfo[]): number[] {
  const declared = config.neck.inChannels;
  const fromBackbone = config.backbone.outIndices.map((index) => {
    const info = featureInfo.find((fi) => fi.index === index);
    if (!info) throw new InputError(`backbone ${config.backbone.type} has no feature layer ${index}`);
    return info.channels;
  });
  if (declared === 'auto') return fromBackbone;
  if (declared.length !== fromBackbone.length || declared.some((c, i) => c !== fromBackbone[i])) {
    throw new InputError(
      `neck.inChannels [${declared.join(', ')}] disagree with the backbone's outputs [${fromBackbone.join(', ')}] ` +
        `(outIndices [${config.backbone.outIndices.join(', ')}]); use inChannels: 'auto'`,
    );
  }
  return declared;
}

export interface FasterRCNNLayout {
  neck: FPNLayout;
  /** The detector's own parameters (neck., rpn., roi_head.). */
  ownSpecs: ParamSpec[];
  /** Backbone parameters (prefixed backbone.) then the detector's own. */
  specs: ParamSpec[];
}

/** Checks the config's parts fit together and lists every parameter. */
export function fasterRCNNLayout(config: FasterRCNNConfig, backboneSpecs: ParamSpec[], featureInfo: FeatureInfo[]): FasterRCNNLayout {
  if (config.neck.type !== 'FPN') throw new InputError(`neck type '${config.neck.type}' is not supported (known: FPN)`);
  const neck = fpnLayout(config.neck, neckInChannels(config, featureInfo));
  if (numLevels(config.rpn.anchors) !== neck.numOuts) {
    throw new InputError(`rpn.anchors describe ${numLevels(config.rpn.anchors)} levels but the neck gives ${neck.numOuts}`);
  }
  const bad = config.roiHead.featmapLevels.find((l) => !(Number.isInteger(l) && l >= 0 && l < neck.numOuts));
  if (bad !== undefined) throw new InputError(`roiHead.featmapLevels has ${bad}, the neck gives levels 0..${neck.numOuts - 1}`);
  if (!(config.roiHead.numClasses >= 2)) throw new InputError(`roiHead.numClasses must count background and at least one class, got ${config.roiHead.numClasses}`);
  const channels = config.neck.outChannels;
  const ownSpecs = [
    ...prefixed('neck.', neck.specs),
    ...prefixed('rpn.', rpnHeadSpecs(config.rpn, channels)),
    ...prefixed('roi_head.', roiHeadSpecs(config.roiHead, channels)),
  ];
  return { neck, ownSpecs, specs: [...prefixed('backbone.', backboneSpecs), ...ownSpecs] };
}
