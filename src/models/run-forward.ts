// Runs a converted model on NCHW input (PyTorch's layout) and returns NCHW outputs, so results
// compare with PyTorch directly. Imports TF.js: only `forward` and tests load this module.
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, type BackendRequest } from '../backend/select.js';
import type { TorchTensor } from '../checkpoint/types.js';
import { InputError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { encodeNpy, readNpyFile } from '../checkpoint/npy.js';
import { disposeConverted, loadConverted } from './convert.js';

export interface ForwardOutputs {
  /** Per requested feature layer, NCHW float32. */
  features: Array<{ index: number; tensor: TorchTensor }>;
  logits?: TorchTensor;
}

type Loaded = Awaited<ReturnType<typeof loadConverted>>;

/** Read asynchronously: webgpu in Node has no synchronous read. */
async function toTorch(t: tf.Tensor): Promise<TorchTensor> {
  return { dtype: 'float32', shape: t.shape, data: (await t.data()) as Float32Array };
}

/** Runs `loaded` (eval mode) on an NCHW float32 tensor. */
export async function forwardNCHW(loaded: Loaded, input: TorchTensor, file = 'input'): Promise<ForwardOutputs> {
  if (input.shape.length !== 4 || input.shape[1] !== 3) {
    throw new InputError(`expected an NCHW input [N, 3, H, W], got [${input.shape.join(', ')}]`, file);
  }
  if (input.dtype !== 'float32' && input.dtype !== 'float64') throw new InputError(`expected float32 input, got ${input.dtype}`, file);
  const data = input.dtype === 'float32' ? (input.data as Float32Array) : Float32Array.from(input.data as Float64Array);
  const x = tf.tidy(() => tf.transpose(tf.tensor4d(data, input.shape as [number, number, number, number]), [0, 2, 3, 1]));
  try {
    const out = loaded.model.forward(loaded.weights, x as tf.Tensor4D);
    const indices = loaded.outIndices;
    const nchw = out.features.map((f) => tf.transpose(f, [0, 3, 1, 2]));
    try {
      const features = await Promise.all(nchw.map(async (t, k) => ({ index: indices[k], tensor: await toTorch(t) })));
      const logits = out.logits ? await toTorch(out.logits) : undefined;
      return { features, logits };
    } finally {
      tf.dispose([...nchw, ...out.features, ...(out.logits ? [out.logits] : [])]);
    }
  } finally {
    x.dispose();
  }
}

export interface RunForwardOptions {
  /** Feature layers to write (default: every layer). */
  outIndices?: number[];
  backend?: BackendRequest;
}

/**
 * `torchport forward`: load DIR, run INPUT, write OUTDIR/features_<i>.npy and logits.npy. Returns the
 * files written and the parameters that were initialised (absent from the converted checkpoint).
 */
export async function runForward(dir: string, inputPath: string, outDir: string, opts: RunForwardOptions = {}) {
  const input = readNpyFile(inputPath);
  await selectBackend(opts.backend ?? 'wasm');
  const loaded = await loadConverted(dir, { outIndices: opts.outIndices ?? 'all' });
  let out: ForwardOutputs;
  try {
    out = await forwardNCHW(loaded, input, inputPath);
  } finally {
    disposeConverted(loaded);
  }
  const written: Array<{ file: string; shape: number[] }> = [];
  for (const f of out.features) {
    const file = `features_${f.index}.npy`;
    writeFileAtomic(join(outDir, file), encodeNpy(f.tensor));
    written.push({ file, shape: f.tensor.shape });
  }
  if (out.logits) {
    writeFileAtomic(join(outDir, 'logits.npy'), encodeNpy(out.logits));
    written.push({ file: 'logits.npy', shape: out.logits.shape });
  }
  return { written, initialised: loaded.initialised };
}
