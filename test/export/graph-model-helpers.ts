// Shared by the GraphModel tests: loading an exported folder with plain tfjs-converter (an IOHandler
// that reads the files, what a Node user without tfjs-node writes) and running it.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { loadConfig } from '../../src/config/load.js';
import { detectorConfig, validateConfig } from '../../src/config/validate.js';
import { resolveWeightSources } from '../../src/config/weights.js';
import { attr, GraphBuilder } from '../../src/export/graph-model/graph.js';
import { Ops } from '../../src/export/graph-model/ops.js';
import { roiAlignGraph } from '../../src/export/graph-model/roi-align.js';
import { readTfjsWeights, writeTfjsWeights, type WeightArray } from '../../src/io/tfjs-weights.js';
import type { FasterRCNNConfig } from '../../src/models/faster-rcnn/config.js';
import { createFasterRCNN } from '../../src/models/faster-rcnn/faster-rcnn.js';
import { detectorFolderMetadata, loadDetectorDir } from '../../src/models/detectors/load.js';
import { loadInitialWeights } from '../../src/train/init-weights.js';

const REPO = join(import.meta.dirname, '../..');
export const GOLDEN = join(REPO, 'fixtures/graph-model');

export function folderHandler(dir: string): tf.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
      const weightSpecs = json.weightsManifest.flatMap((g: { weights: tf.io.WeightsManifestEntry[] }) => g.weights);
      const bytes = Buffer.concat(json.weightsManifest.flatMap((g: { paths: string[] }) => g.paths.map((p) => readFileSync(join(dir, p)))));
      return { ...json, weightSpecs, weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) };
    },
  };
}

export function loadFolder(dir: string): Promise<GraphModel> {
  return loadGraphModel(folderHandler(dir));
}

export interface GraphDetections {
  boxes: Float32Array;
  scores: Float32Array;
  labels: Int32Array;
}

/** Runs an exported detector on one uint8 HWC image. */
export async function runDetector(model: GraphModel, image: UInt8Image): Promise<GraphDetections> {
  const x = tf.tensor4d(Float32Array.from(image.data), [1, image.height, image.width, 3]);
  const out = (await model.executeAsync(x)) as tf.Tensor[];
  x.dispose();
  const names = model.outputs.map((o) => o.name);
  const pick = (name: string) => out[names.indexOf(name)];
  const result = {
    boxes: (await pick('boxes').data()) as Float32Array,
    scores: (await pick('scores').data()) as Float32Array,
    labels: (await pick('labels').data()) as Int32Array,
  };
  tf.dispose(out);
  return result;
}

/** A config-carrying model folder, as `finetune` writes it. */
function writeConfigFolder(dir: string, config: FasterRCNNConfig, weights: WeightArray[]): string {
  mkdirSync(dir);
  writeTfjsWeights(dir, weights, {
    format: 'torchport-checkpoint',
    generatedBy: 'test',
    convertedBy: 'test',
    userDefinedMetadata: { torchport: detectorFolderMetadata(config, 'FasterRCNN', { by: 'test' }) },
  });
  return dir;
}

/** A config-carrying model folder with `from`'s weights and its config changed by `edit`. */
export function writeVariantFolder(from: string, dir: string, edit: (config: FasterRCNNConfig) => FasterRCNNConfig): string {
  return writeConfigFolder(dir, edit(loadDetectorDir(from).model.config), readTfjsWeights(from).weights);
}

/**
 * configs/faster-rcnn_mobilenetv3-large-dli14-fpn_1x_coco.js at the reduced widths of
 * fixtures/gen_graph_model.py (backbone 0.15, FPN 32, box head 64, 4 classes), every other setting
 * the config's own: its backbone from `init_cfg` (fixtures/mobilenetv3/dli14_large.pth through
 * the d-li14 mapping) and its FPN and heads from `load_from` (fixtures/graph-model/dli14-heads),
 * as a fine-tuning run starts. Written as a config-carrying model folder.
 */
export async function writeDli14Folder(dir: string): Promise<string> {
  const loaded = await loadConfig(join(REPO, 'configs/faster-rcnn_mobilenetv3-large-dli14-fpn_1x_coco.js'), {
    cfgOptions: [
      'model.backbone.widthMult=0.15',
      `model.backbone.init_cfg.checkpoint=${join(REPO, 'fixtures/mobilenetv3/dli14_large.pth')}`,
      'model.neck.outChannels=32',
      'model.roiHead.representationSize=64',
      `load_from=${join(GOLDEN, 'dli14-heads')}`,
    ],
  });
  const cfg = validateConfig(loaded.config, loaded.file);
  const config = detectorConfig(cfg, 4);
  const init = loadInitialWeights(createFasterRCNN(config), resolveWeightSources(cfg, loaded.file), 0);
  if (!init.log.some((l) => l.startsWith('initialised fresh (seed 0): 0 of'))) throw new Error(`weights not all from the fixtures: ${init.log.join('; ')}`);
  const weights = Object.entries(init.weights).map(([name, t]) => ({ name, shape: t.shape, data: t.dataSync() as Float32Array }));
  tf.dispose(Object.values(init.weights));
  return writeConfigFolder(dir, config, weights);
}

export interface UInt8Image {
  height: number;
  width: number;
  data: Uint8Array;
}

/** Nearest-neighbour enlargement with integer source indices, as fixtures/gen_graph_model.py's `nearest`. */
export function nearest(image: UInt8Image, height: number, width: number): UInt8Image {
  const data = new Uint8Array(height * width * 3);
  for (let y = 0; y < height; y++) {
    const sy = Math.floor((y * image.height) / height);
    for (let x = 0; x < width; x++) {
      const sx = Math.floor((x * image.width) / width);
      data.set(image.data.subarray(3 * (sy * image.width + sx), 3 * (sy * image.width + sx) + 3), 3 * (y * width + x));
    }
  }
  return { height, width, data };
}

/** roi_align units (fixtures: feature, boxes, scale, outputSize) through the graph's RoIAlign, run by tfjs-converter. */
export async function runRoiAlignGraph(units: { feature: number[]; featureShape: number[]; boxes: number[]; outputSize: number; scale: number }, samplingRatio: number, aligned: boolean): Promise<tf.Tensor> {
  const g = new GraphBuilder();
  const o = new Ops(g);
  const feature = g.named('feature', 'Placeholder', [], { dtype: attr.type('float32'), shape: attr.shape(units.featureShape) });
  const boxes = g.const(Float32Array.from(units.boxes), [units.boxes.length / 4, 4], 'boxes');
  const pooled = roiAlignGraph(o, feature, boxes, o.f(units.scale), { outputSize: units.outputSize, samplingRatio, aligned });
  g.named('pooled', 'Identity', [pooled], { T: attr.type('float32') });
  const bytes = new Uint8Array(g.constants.reduce((n, k) => n + k.data.byteLength, 0));
  let at = 0;
  for (const k of g.constants) {
    bytes.set(new Uint8Array(k.data.buffer, k.data.byteOffset, k.data.byteLength), at);
    at += k.data.byteLength;
  }
  const model = await loadGraphModel({
    load: async () => ({ modelTopology: g.graphDef(), weightSpecs: g.constants.map((k) => ({ name: k.name, shape: k.shape, dtype: k.dtype })), weightData: bytes.buffer }),
  });
  const x = tf.tensor4d(units.feature, units.featureShape as [number, number, number, number]);
  const y = (await model.executeAsync(x, 'pooled')) as tf.Tensor;
  x.dispose();
  model.dispose();
  return y;
}
