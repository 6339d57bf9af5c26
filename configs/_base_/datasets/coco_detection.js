// A COCO-format detection dataset in the usual layout under data.root:
//   annotations/instances_train.json, annotations/instances_val.json, train/, val/
// `--data DIR` sets data.root. Resize/Normalize/Pad without options follow model.transform.
export default {
  data: {
    root: null,
    train: {
      type: 'CocoDataset',
      annFile: 'annotations/instances_train.json',
      imgDir: 'train',
      // Images without objects are skipped in training (torchvision's references, mmdet's filter_empty_gt).
      filterEmpty: true,
      pipeline: [{ type: 'RandomFlip', prob: 0.5 }, { type: 'Normalize' }, { type: 'Resize' }, { type: 'Pad' }],
    },
    val: {
      type: 'CocoDataset',
      annFile: 'annotations/instances_val.json',
      imgDir: 'val',
      filterEmpty: false,
      pipeline: [{ type: 'Normalize' }, { type: 'Resize' }, { type: 'Pad' }],
    },
    batchSize: 2,
    valBatchSize: 1,
    shuffle: true,
    // Batches decoded ahead of the model.
    prefetch: 2,
    // Stop before training when the bad-data report lists anything (--skip-bad to continue without them).
    skipBad: false,
  },
};
