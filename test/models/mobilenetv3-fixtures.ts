// Reads the PyTorch-generated MobileNetV3 fixtures (fixtures/mobilenetv3, see its README).
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { decodeNpy } from '../../src/checkpoint/npy.js';
import type { WeightMap } from '../../src/models/backbones/mobilenetv3/index.js';

export const FIXTURES = new URL('../../fixtures/mobilenetv3/', import.meta.url);

export interface StructureEntry {
  family: 'torchvision' | 'dli14';
  variant: 'large' | 'small';
  widthMult: number;
  numClasses: number;
  bnEps: number;
  parameters: number;
  buffers: number;
  featureInfo: { index: number; stride: number; channels: number }[];
  specs: [string, number[]][];
}

export function structure(): StructureEntry[] {
  return JSON.parse(readFileSync(new URL('structure.json', FIXTURES), 'utf8')) as StructureEntry[];
}

/** A float32 .npy as a tf tensor (NCHW as PyTorch wrote it). */
export function npyTensor(path: string): tf.Tensor {
  const t = decodeNpy(readFileSync(new URL(path, FIXTURES)));
  return tf.tensor(t.data as Float32Array, t.shape, 'float32');
}

/** A canonical-name weight set (`<path>.json` manifest + `<path>.bin` float32 data, in order). */
export function canonicalWeights(path: string): WeightMap {
  const manifest = JSON.parse(readFileSync(new URL(`${path}.json`, FIXTURES), 'utf8')) as { weights: { name: string; shape: number[] }[] };
  const bin = readFileSync(new URL(`${path}.bin`, FIXTURES));
  const data = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
  const out: WeightMap = {};
  let offset = 0;
  for (const { name, shape } of manifest.weights) {
    const n = shape.reduce((a, b) => a * b, 1);
    out[name] = tf.tensor(data.subarray(offset, offset + n), shape, 'float32');
    offset += n;
  }
  if (offset !== data.length) throw new Error(`${path}.bin has ${data.length} floats, the manifest covers ${offset}`);
  return out;
}

/** max |a - b| / max |b|: the error measure of the parity tests. */
export function relativeError(actual: tf.Tensor, expected: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0] / tf.max(tf.abs(expected)).dataSync()[0]);
}

export const toNchw = (x: tf.Tensor4D): tf.Tensor4D => tf.transpose(x, [0, 3, 1, 2]);
export const toNhwc = (x: tf.Tensor): tf.Tensor4D => tf.transpose(x as tf.Tensor4D, [0, 2, 3, 1]);
