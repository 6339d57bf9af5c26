// torchport's library API: everything the CLI does is available from here.
export { InputError, InternalError } from './errors.js';
export type { DType, TensorData, TorchTensor, StateDict, StateDictMetadata } from './checkpoint/types.js';
export type { ParamKind, ParamSpec, FeatureInfo } from './mapping/params.js';
export { Registry, RegistryError } from './registry.js';
export { encodeNpy, decodeNpy } from './checkpoint/npy.js';
// checkpoint exports
export { readCheckpoint, readCheckpointBytes, type CheckpointFile, type ReadOptions } from './checkpoint/read.js';
export { extractStateDict, selectPrefix, describeValue, type ExtractOptions, type ExtractedStateDict } from './checkpoint/extract.js';
export { CheckpointTensor, QuantizedTensor, isTensor } from './checkpoint/storage.js';
export { NumpyArray } from './checkpoint/numpy-objects.js';
export { OrderedDict, PyInstance, PyGlobal } from './checkpoint/pyobjects.js';
export { DTYPE_BYTES, halfToFloat, toFloat32, typedArrayOf } from './checkpoint/dtype.js';
export { summarise, groupKeys, type StateDictSummary, type KeyGroup } from './checkpoint/summary.js';
export { inspectCheckpoint, type InspectOptions, type InspectReport } from './checkpoint/report.js';
export { writeStateDictNpy, npyFileName } from './checkpoint/npy-export.js';
// mapping exports
export { loadMapping, loadAllMappings, listMappingFiles, findMappingFile, BUILTIN_MAPPINGS_DIR } from './mapping/load.js';
export type { Mapping, MappingTarget, ModelOptions, RenameRule, IgnoreRule, Include } from './mapping/types.js';
export { planMapping } from './mapping/plan.js';
export type { MappingPlan, SourceSpec, MatchedEntry, MismatchEntry, MissingEntry, UnexpectedEntry, IgnoredEntry, ConflictEntry } from './mapping/plan.js';
export { planLayout, permute } from './mapping/layout.js';
export { applyPlan, type NamedWeight } from './mapping/apply.js';
export { detectMapping, type Detection, type Candidate, type DescribeModel, type ModelDescription } from './mapping/detect.js';
export { describeModel, modelDescriptions } from './models/descriptions.js';
export { mapCheckpoint, detectForSources, sourceSpecs, type MapCheckpointOptions, type MappedCheckpoint } from './models/map-checkpoint.js';
export { buildReport, renderReport, summaryLine, type DiffReport, type DiffSummary } from './mapping/report.js';
export { suggestRules, type SuggestionGroup } from './mapping/suggest.js';
export { convertCheckpoint, loadConverted, disposeConverted, readConvertedMetadata, type ConvertOptions, type ConvertedMetadata } from './models/convert.js';
export { featureRows, outIndicesChoice, proposeOutIndices, type OutIndicesChoice } from './mapping/features.js';
export { writeTfjsWeights, readTfjsWeights, type ModelJson, type WeightsManifestGroup, type WeightArray } from './io/tfjs-weights.js';
// model exports
export { backbones, type BackboneFactory } from './models/backbones/registry.js';
export type { Backbone, BackboneOutput, ForwardOptions } from './models/backbones/types.js';
export {
  createMobileNetV3,
  describeMobileNetV3,
  frozenStagesFromTrainableLayers,
  lastFeatureIndex,
  makeDivisible,
  mobileNetV3Layout,
  type MobileNetV3,
  type MobileNetV3Description,
  type MobileNetV3Options,
  type ResolvedMobileNetV3Options,
  type MobileNetV3Layout,
  type BlockLayout,
  type Family,
} from './models/backbones/mobilenetv3/index.js';
export { type WeightMap, weight, checkWeights } from './models/layers/weights.js';
export { hardSigmoid, hardSwish, activate, type Activation } from './models/layers/activations.js';
export { batchNormParams, batchNormScaleShift, batchNormTrain, type BatchNormParams, type NormMode, type RunningStats } from './models/layers/batchnorm.js';
export { convBnAct, foldBatchNorm, type ConvOptions } from './models/layers/conv.js';
export { FoldCache, type Folded } from './models/layers/fold-cache.js';
export { squeezeExcite } from './models/layers/se.js';
export { batchNormSpecs, convBnSpecs, denseSpecs, squeezeExciteSpecs, numel } from './models/layers/specs.js';
export { initWeights, torchvisionInit, type InitRule } from './models/layers/init.js';
export {
  fasterrcnnMobileNetV3LargeFPN,
  fasterrcnnMobileNetV3Large320FPN,
  BBOX_XFORM_CLIP,
  type FasterRCNNConfig,
  type BackboneConfig,
  type FPNConfig,
  type FPNExtra,
  type AnchorConfig,
  type TorchvisionAnchorConfig,
  type MMDetAnchorConfig,
  type RPNConfig,
  type RoIHeadConfig,
  type TransformConfig,
  type TrainTest,
  type TorchvisionFasterRCNNOptions,
} from './models/detection/config.js';
export { boxIou, boxArea, clipBoxes, removeSmallBoxes, nms, batchedNms, argsortDescending, selectBoxes } from './models/detection/boxes.js';
export { encodeBoxes, decodeBoxes, type BoxCoderWeights } from './models/detection/box-coder.js';
export { generateAnchors, cellAnchors, anchorsPerLocation } from './models/detection/anchors.js';
export { roiAlign, multiScaleRoIAlign, assignLevels, type RoIAlignOptions, type MultiScaleRoIAlignOptions } from './models/detection/roi-align.js';
export { rpnHead, filterProposals, type RPNHeadOutput, type Proposals } from './models/detection/rpn.js';
export { boxHead, boxPredictor, postprocessDetections, type Detections } from './models/detection/roi-head.js';
export { transformImages, resizedSize, boxesToOriginal, type RGBImage, type TransformedBatch } from './models/detection/transform.js';
export { fasterRCNNLayout, classColumns, rpnHeadSpecs, roiHeadSpecs } from './models/detection/specs.js';
export { createFasterRCNN, type FasterRCNN, type FeaturesOutput } from './models/detection/faster-rcnn.js';
// detector training (src/models/detection/training)
export { matchPredictions, BELOW_LOW_THRESHOLD, BETWEEN_THRESHOLDS, type MatcherOptions } from './train/detection/matcher.js';
export { sampleBalanced, type SamplerOptions, type BalancedSample } from './train/detection/sampler.js';
export { SeededRandom } from './train/detection/random.js';
export { assignAnchorTargets, sampleRoITargets, type ImageTargets, type AnchorTargets, type RoISamples } from './train/detection/targets.js';
export { rpnLosses, roiLosses, smoothL1, bceWithLogits, BOX_LOSS_BETA } from './train/detection/losses.js';
export { computeLosses, rpnStage, roiStage, type DetectionBatch, type DetectionLosses, type LossOptions } from './train/detection/faster-rcnn-train.js';
export { detectorTrainable, detectorVariables, toDetectionBatch } from './train/detection/trainable.js';
export { createFPN } from './models/necks/fpn.js';
export { necks } from './models/necks/registry.js';
export type { Neck, NeckBuilder } from './models/necks/types.js';
export { detectors, type DetectorBuilder } from './models/detectors/registry.js';
export { torchvisionDetectorConfig, describeDetector, DETECTOR_MODELS, type DetectorModelOptions } from './models/detectors/torchvision.js';
export { loadDetectorCheckpoint, loadDetectorDir, assembleDetector, detectorFolderMetadata, detectorFromMetadata, type LoadedDetector } from './models/detectors/load.js';
export { detectImage, readImageFile, type DetectionRecord, type DetectResult } from './models/detectors/run.js';
export { labelName, TORCHVISION_COCO_CATEGORIES } from './models/detectors/labels.js';
export { drawDetections, detectionsSvg, type DrawnBox } from './io/draw.js';
// backend exports
export { selectBackend, type BackendRequest, type BackendChoice, type SelectOptions } from './backend/select.js';
export { backendStatus, classifyNativeLoadError, type BackendStatus, type BackendPackage, type UnusableReason } from './backend/status.js';
export { preflight, formatPreflight, type PreflightReport } from './backend/preflight.js';
export { ensureGradients } from './backend/gradients.js';
export { registerWasmKernels } from './backend/kernels/register.js';
export { setSimdGemm, simdGemmActive } from './backend/kernels/simd_product.js';
export { dense } from './backend/ops/dense.js';
// train/data/eval/config exports
export { loadConfig, importPlugins, type LoadOptions, type LoadedConfig } from './config/load.js';
export { mergeConfig, mergeSiblings, cloneConfig, type ConfigDict } from './config/merge.js';
export { applyOverrides, parseOverrides, parseOverrideValue } from './config/overrides.js';
export { validateConfig, detectorConfig, CONFIG_SCHEMA } from './config/validate.js';
export { checkModel, type CheckedModel } from './config/model.js';
export { resolveWeightSources, type WeightSource } from './config/weights.js';
export { checkSchema, describeSchema, type Schema, type SchemaProblem } from './schema.js';
export { optimizers, type OptimizerEntry, type OptimizerSpec } from './config/optimizers.js';
export { schedulers, buildLrSchedule, type SchedulerEntry, type SchedulerContext } from './config/schedulers.js';
export type { TrainConfig, ModelSection, PretrainedInit } from './config/types.js';
export type { DataSection, DatasetSection } from './data/datasets.js';
export { parseCocoJson, readCocoJson, LabelMap, type CocoJson, type CocoImage, type CocoAnnotation, type CocoCategory } from './data/coco.js';
export { checkCocoData, formatBadDataReport, withoutBadData, countProblems, type BadDataReport } from './data/check.js';
export { CocoDataset, type CocoDatasetOptions, type DatasetItem } from './data/dataset.js';
export { DetectionLoader, collate, type DataBatch, type LoaderOptions } from './data/loader.js';
export { transforms, buildPipeline, DEFAULT_TRAIN_PIPELINE, DEFAULT_TEST_PIPELINE, type Sample, type Transform, type TransformEntry } from './data/transforms.js';
export { datasets, buildLoaders, type DatasetEntry, type Loaders } from './data/datasets.js';
export { writeShapesDataset, drawShapesImage, SHAPE_CATEGORIES, type ShapesOptions } from './data/shapes.js';
export { createRng, mixSeed, shuffledIndices } from './data/rng.js';
export { evaluateDetections, boxIoU, defaultParams, type CocoDetection, type CocoEvalResult, type EvalParams } from './eval/cocoeval.js';
export { formatSummary, toMetrics, writeMetrics, type Metrics } from './eval/metrics.js';
export { evaluateDataset, toCocoDetections, type PredictFn, type PredictInput, type ImageDetections, type DatasetEvaluation } from './eval/evaluate.js';
export { decodeImage, encodePng, encodeJpeg, readImageSize, flipHorizontal, fillPolygon, fillEllipse, strokeBox, type RgbImage } from './io/image.js';
export { Sgd, type SgdOptions } from './train/sgd.js';
export { clipByGlobalNorm, type Clipped } from './train/clip.js';
export { Trainer, NonFiniteLossError, type TrainerOptions, type TrainResult } from './train/trainer.js';
export { saveCheckpoint, loadCheckpoint, loadModelWeights, readCheckpointWeights, type TrainState, type CheckpointMeta } from './train/checkpoint.js';
export { defaultProgress, barProgress, lineProgress, formatIteration, type Progress, type IterationInfo } from './train/progress.js';
export { JsonLog, type LogRecord } from './train/log.js';
export type { TrainableModel, BatchSource, LossOutput, RngHolder } from './train/types.js';
export { loadInitialWeights, type InitialWeights } from './train/init-weights.js';
export { finetune, type FinetuneOptions, type FinetuneResult } from './train/finetune.js';
export { runDemo, DEMO_CHECKPOINT, DEMO_CONFIG, type DemoOptions, type DemoResult } from './train/demo.js';
export { exportGraphModel, UnsupportedOpError, SUPPORTED_OPS, type ExportGraphModelOptions, type ExportGraphModelResult } from './export/graph-model/index.js';
// export to PyTorch (.pth, safetensors) and safetensors input
export { exportStateDict, STATE_DICT_FORMATS, type StateDictFormat, type ExportStateDictOptions } from './export/write.js';
export { buildExport, EXPORT_DTYPES, type ExportDtype, type ExportOptions, type ExportedStateDict } from './export/state-dict.js';
export { LAYOUTS, type Layout, type ChosenLayout } from './export/layouts.js';
export { writeStateDictPth, type StateDictPthOptions } from './checkpoint/write-pth.js';
export { PyTuple, PyOrderedDict, type PickleValue, type PickledTensor } from './checkpoint/pickle-writer.js';
export { writeSafetensors } from './checkpoint/write-safetensors.js';
export { readSafetensors, SAFETENSORS_DTYPES, MAX_HEADER_BYTES, type SafetensorsFile } from './checkpoint/safetensors.js';
export type { OutTensor } from './checkpoint/out-tensor.js';
