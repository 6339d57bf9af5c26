// Shared by the GraphModel tests: loading an exported folder with plain tfjs-converter (an IOHandler
// that reads the files, what a Node user without tfjs-node writes) and running it.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { readTfjsWeights, writeTfjsWeights } from '../../src/io/tfjs-weights.js';
import type { FasterRCNNConfig } from '../../src/models/detection/config.js';
import { detectorFolderMetadata, loadDetectorDir } from '../../src/models/detectors/load.js';

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
export async function runDetector(model: GraphModel, image: { height: number; width: number; data: Uint8Array }): Promise<GraphDetections> {
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

/** A config-carrying model folder (as `finetune` writes) with `from`'s weights and its config changed by `edit`. */
export function writeVariantFolder(from: string, dir: string, edit: (config: FasterRCNNConfig) => FasterRCNNConfig): string {
  const config = edit(loadDetectorDir(from).model.config);
  mkdirSync(dir);
  writeTfjsWeights(dir, readTfjsWeights(from).weights, {
    format: 'torchport-checkpoint',
    generatedBy: 'test',
    convertedBy: 'test',
    userDefinedMetadata: { torchport: detectorFolderMetadata(config, 'FasterRCNN', { by: 'test' }) },
  });
  return dir;
}

/** Adaptive RoIAlign sampling: a per-RoI sample count, which the graph executor cannot express. */
export const adaptiveSampling = (c: FasterRCNNConfig): FasterRCNNConfig => ({ ...c, roiHead: { ...c.roiHead, samplingRatio: 0 } });
