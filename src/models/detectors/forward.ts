// `torchport forward` on a detector model folder: the FPN outputs of an NCHW input, written as NCHW
// `fpn_<i>.npy` (finest first), for direct comparison with PyTorch's `model.backbone(x)`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { encodeNpy, readNpyFile } from '../../checkpoint/npy.js';
import { loadDetectorDir } from './load.js';
import { DETECTOR_MODELS } from './torchvision.js';

/** Whether `dir/model.json` describes a detector (named, or built from a config); false when unreadable. */
export function isDetectorFolder(dir: string): boolean {
  try {
    const meta = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'))?.userDefinedMetadata?.torchport;
    return typeof meta === 'object' && meta !== null && (meta.config !== undefined || DETECTOR_MODELS.includes(meta.model));
  } catch {
    return false;
  }
}

export async function runDetectorForward(dir: string, inputPath: string, outDir: string): Promise<{ written: Array<{ file: string; shape: number[] }>; initialised: string[] }> {
  const input = readNpyFile(inputPath);
  if (input.shape.length !== 4 || input.shape[1] !== 3 || input.dtype !== 'float32') {
    throw new InputError(`expected a float32 NCHW input [N, 3, H, W], got ${input.dtype} [${input.shape.join(', ')}]`, inputPath);
  }
  const detector = loadDetectorDir(dir);
  const written: Array<{ file: string; shape: number[] }> = [];
  try {
    const x = tf.tidy(() => tf.transpose(tf.tensor4d(input.data as Float32Array, input.shape as [number, number, number, number]), [0, 2, 3, 1]) as tf.Tensor4D);
    const { features } = detector.model.features(detector.weights, x);
    x.dispose();
    for (const [i, f] of features.entries()) {
      const nchw = tf.transpose(f, [0, 3, 1, 2]);
      const file = `fpn_${i}.npy`;
      writeFileAtomic(join(outDir, file), encodeNpy({ dtype: 'float32', shape: nchw.shape, data: (await nchw.data()) as Float32Array }));
      written.push({ file, shape: nchw.shape });
      tf.dispose([nchw, f]);
    }
  } finally {
    tf.dispose(Object.values(detector.weights));
    detector.model.releaseCache();
  }
  return { written, initialised: detector.initialised };
}
