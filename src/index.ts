// torchport's public API, by area; docs/api.md documents it with an example per area. Everything
// else under src/ is internal: change this list deliberately (test/project/api.test.ts holds it).

// Errors and the registries' type
export { InputError, InternalError } from './errors.js';
export { Registry, RegistryError } from './registry.js';

// Read: PyTorch checkpoints (.pth zip or legacy, .safetensors) as plain data
export { readCheckpoint, readCheckpointBytes, type CheckpointFile, type ReadOptions } from './checkpoint/read.js';
export { inspectCheckpoint, type InspectOptions, type InspectReport } from './checkpoint/report.js';
export type { DType, TensorData, TorchTensor, StateDict, StateDictMetadata } from './checkpoint/types.js';
export { toFloat32 } from './checkpoint/dtype.js';
export { isTensor, QuantizedTensor } from './checkpoint/storage.js';
export { NumpyArray } from './checkpoint/numpy-objects.js';
export { OrderedDict, PyInstance } from './checkpoint/pyobjects.js';

// Extract: the state dict inside whatever wraps it, and .npy files
export { extractStateDict, selectPrefix, type ExtractOptions, type ExtractedStateDict } from './checkpoint/extract.js';
export { writeStateDictNpy } from './checkpoint/npy-export.js';
export { encodeNpy, decodeNpy } from './checkpoint/npy.js';

// Mapping, diff, convert
export { loadMapping, loadAllMappings, BUILTIN_MAPPINGS_DIR } from './mapping/load.js';
export type { Mapping, ModelOptions } from './mapping/types.js';
export type { ParamKind, ParamSpec, FeatureInfo } from './mapping/params.js';
export { planMapping, type MappingPlan, type SourceSpec } from './mapping/plan.js';
export { detectMapping, type Detection, type DescribeModel, type ModelDescription } from './mapping/detect.js';
export { renderReport, type DiffReport, type DiffSummary } from './mapping/report.js';
export { describeModel, modelDescriptions } from './models/descriptions.js';
export { mapCheckpoint, type MapCheckpointOptions, type MappedCheckpoint } from './models/map-checkpoint.js';
export {
  convertCheckpoint,
  loadConverted,
  disposeConverted,
  readConvertedMetadata,
  type ConvertOptions,
  type ConvertResult,
  type ConvertedMetadata,
  type LoadConvertedOptions,
} from './models/convert.js';
export { readTfjsWeights, writeTfjsWeights, type ModelJson, type WeightArray } from './io/tfjs-weights.js';

// Models: backbones, necks and detectors, built by name through their registries
export { backbones, type BackboneFactory } from './models/backbones/registry.js';
export type { Backbone, BackboneOutput, ForwardOptions } from './models/backbones/types.js';
export { createMobileNetV3, frozenStagesFromTrainableLayers, type MobileNetV3, type MobileNetV3Options } from './models/backbones/mobilenetv3/index.js';
export type { WeightMap } from './models/layers/weights.js';
export { necks } from './models/necks/registry.js';
export type { Neck, NeckBuilder } from './models/necks/types.js';
export { detectors, type DetectorBuilder } from './models/detectors/registry.js';
export { createFasterRCNN, type FasterRCNN } from './models/faster-rcnn/faster-rcnn.js';
export type { FasterRCNNConfig, BackboneConfig, FPNConfig, RPNConfig, RoIHeadConfig, TransformConfig } from './models/faster-rcnn/config.js';
export { torchvisionDetectorConfig, DETECTOR_MODELS, type DetectorModelOptions } from './models/detectors/torchvision.js';

// Detect: load a detector, run it on images, draw the boxes
export { loadDetectorCheckpoint, loadDetectorDir, detectorFromMetadata, detectorFolderMetadata, type LoadedDetector } from './models/detectors/load.js';
export { detectImage, readImageFile, type DetectionRecord } from './models/detectors/run.js';
export { drawDetections, type DrawnBox } from './io/draw.js';
export type { RgbImage } from './io/image.js';

// Fine-tune: configs, COCO data, training, evaluation
export { finetune, type FinetuneOptions, type FinetuneResult } from './train/finetune.js';
export { runDemo, type DemoOptions, type DemoResult } from './train/demo.js';
export { loadConfig, type LoadOptions, type LoadedConfig } from './config/load.js';
export type { TrainConfig, ModelSection, PretrainedInit } from './config/types.js';
export { optimizers } from './config/optimizers.js';
export { schedulers } from './config/schedulers.js';
export { datasets, type DataSection, type DatasetSection } from './data/datasets.js';
export { transforms } from './data/transforms.js';
export { CocoDataset } from './data/dataset.js';
export { writeShapesDataset, type ShapesOptions } from './data/shapes.js';
export { evaluateDataset, type DatasetEvaluation, type PredictFn } from './eval/evaluate.js';
export { Trainer, NonFiniteLossError, type TrainerOptions, type TrainResult } from './train/trainer.js';
export type { TrainableModel, BatchSource, LossOutput } from './train/types.js';
export { Sgd, type SgdOptions } from './train/sgd.js';
export { clipByGlobalNorm } from './train/clip.js';
export { saveCheckpoint, loadCheckpoint, type TrainState } from './train/checkpoint.js';
export { computeLosses, type DetectionBatch, type DetectionLosses, type LossOptions } from './train/faster-rcnn/faster-rcnn-train.js';
export { detectorTrainable, detectorVariables } from './train/faster-rcnn/trainable.js';
export { SeededRandom } from './train/faster-rcnn/random.js';

// Export: back to PyTorch (.pth, .safetensors) or to a standalone TF.js GraphModel
export { exportStateDict, STATE_DICT_FORMATS, type StateDictFormat, type ExportStateDictOptions } from './export/write.js';
export { buildExport, type ExportOptions, type ExportedStateDict } from './export/state-dict.js';
export { writeStateDictPth, type StateDictPthOptions } from './checkpoint/write-pth.js';
export type { OutTensor } from './checkpoint/out-tensor.js';
export { writeSafetensors } from './checkpoint/write-safetensors.js';
export { readSafetensors, type SafetensorsFile } from './checkpoint/safetensors.js';
export { exportGraphModel, UnsupportedOpError, type ExportGraphModelOptions, type ExportGraphModelResult } from './export/graph-model/index.js';

// Backends: which TF.js backend runs, and whether training works on it
export { selectBackend, type BackendRequest, type BackendChoice, type SelectOptions } from './backend/select.js';
export { backendStatus, type BackendStatus } from './backend/status.js';
export { preflight, formatPreflight, type PreflightReport } from './backend/preflight.js';
export { ensureGradients } from './backend/gradients.js';
export { registerWasmKernels } from './backend/kernels/register.js';
export { setSimdGemm, simdGemmActive } from './backend/kernels/simd-product.js';
export { dense } from './backend/ops/dense.js';
