// Human-readable names for detector labels.
import type { FasterRCNNConfig } from '../faster-rcnn/config.js';
import { classColumns } from '../faster-rcnn/specs.js';

/** torchvision's COCO category names, indexed by label id (91 entries, 0 = background, 'N/A' gaps). */
export const TORCHVISION_COCO_CATEGORIES: readonly string[] = [
  '__background__', 'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat',
  'traffic light', 'fire hydrant', 'N/A', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog',
  'horse', 'sheep', 'cow', 'elephant', 'bear', 'zebra', 'giraffe', 'N/A', 'backpack', 'umbrella', 'N/A',
  'N/A', 'handbag', 'tie', 'suitcase', 'frisbee', 'skis', 'snowboard', 'sports ball', 'kite', 'baseball bat',
  'baseball glove', 'skateboard', 'surfboard', 'tennis racket', 'bottle', 'N/A', 'wine glass', 'cup', 'fork',
  'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange', 'broccoli', 'carrot', 'hot dog', 'pizza',
  'donut', 'cake', 'chair', 'couch', 'potted plant', 'bed', 'N/A', 'dining table', 'N/A', 'N/A', 'toilet',
  'N/A', 'tv', 'laptop', 'mouse', 'remote', 'keyboard', 'cell phone', 'microwave', 'oven', 'toaster', 'sink',
  'refrigerator', 'N/A', 'book', 'clock', 'vase', 'scissors', 'teddy bear', 'hair drier', 'toothbrush',
];

/**
 * The name of `labelId` (numbered as the source model numbers it): `classNames` when the config
 * has them (one per foreground class, in label order), torchvision's COCO names for a 91-class
 * torchvision-layout model, else "class <id>".
 */
export function labelName(config: FasterRCNNConfig, labelId: number): string {
  const { foreground } = classColumns(config.roiHead);
  const index = foreground.indexOf(labelId);
  if (config.classNames && index >= 0 && index < config.classNames.length) return config.classNames[index];
  if ((config.roiHead.classLayout ?? 'torchvision') === 'torchvision' && config.roiHead.numClasses === TORCHVISION_COCO_CATEGORIES.length) {
    return TORCHVISION_COCO_CATEGORIES[labelId];
  }
  return `class ${labelId}`;
}
