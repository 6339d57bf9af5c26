// The TensorFlow ops torchport's graph builders emit. Every one is in the op list of the graph
// executor of @tensorflow/tfjs-converter 4.22 (test/export/graph-model-ops.test.ts checks this list
// and every emitted graph against the converter's own op list files).
export const SUPPORTED_OPS: ReadonlySet<string> = new Set([
  'Placeholder', 'Const', 'Identity',
  'AddV2', 'Sub', 'Mul', 'RealDiv', 'Pow', 'Maximum', 'Minimum', 'Min', 'Neg', 'Exp', 'Log', 'Sqrt', 'Floor', 'Ceil', 'Round',
  'Relu', 'Relu6', 'Sigmoid', 'Softmax',
  'Conv2D', '_FusedConv2D', 'DepthwiseConv2dNative', 'FusedDepthwiseConv2dNative', 'MatMul', '_FusedMatMul',
  'Mean', 'Max', 'MaxPool', 'AvgPool', 'SparseSegmentMean',
  'ResizeBilinear', 'ResizeNearestNeighbor', 'CropAndResize', 'NonMaxSuppressionV3',
  'Shape', 'Size', 'Cast', 'Reshape', 'Transpose', 'ConcatV2', 'Slice', 'GatherV2', 'Pad', 'MirrorPad', 'Range',
  'Where', 'TopKV2', 'Greater', 'GreaterEqual', 'Equal', 'LogicalAnd', 'FloorMod', 'FloorDiv',
]);
