// A weight streamed in PyTorch's layout piece by piece (through shared buffers, a transpose larger
// than a buffer in bands) gives the same bytes as the whole weight permuted at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromFloat32 } from '../../src/checkpoint/narrow.js';
import type { DType } from '../../src/checkpoint/types.js';
import { permute } from '../../src/mapping/layout.js';
import type { ParamKind } from '../../src/mapping/params.js';
import type { FolderWeight } from '../../src/export/model-folder.js';
import { Scratch, streamTorchBytes, torchPermutation } from '../../src/export/torch-bytes.js';

function weight(shape: number[]): { w: FolderWeight; values: Float32Array; reads: number[] } {
  const values = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, k) => Math.sin(k) * 1000);
  const reads: number[] = [];
  return {
    values,
    reads,
    w: {
      shape,
      read: () => values.slice(),
      readInto(into, first) {
        reads.push(into.length);
        into.set(values.subarray(first, first + into.length));
      },
    },
  };
}

function streamed(name: string, kind: ParamKind, shape: number[], torchShape: number[], dtype: DType, scratch = new Scratch()): { bytes: Buffer; pieces: number; reads: number[]; want: Buffer } {
  const { w, values, reads } = weight(shape);
  const pieces: Buffer[] = [];
  // Pieces may share memory: copy each as it comes.
  streamTorchBytes(name, kind, w, torchShape, dtype, scratch, (piece) => pieces.push(Buffer.from(piece)));
  const d = fromFloat32(permute(values, shape, torchPermutation(name, kind, shape, torchShape)), dtype);
  return { bytes: Buffer.concat(pieces), pieces: pieces.length, reads, want: Buffer.from(d.buffer, d.byteOffset, d.byteLength) };
}

test('a dense kernel larger than a band comes out in bands, each read a block at a time, equal to the whole transpose', () => {
  for (const dtype of ['float32', 'float16', 'bfloat16'] as const) {
    // Blocks of 64 KB, bands of 1 MB (the defaults are 1 MB and 16 MB).
    const r = streamed('fc6.kernel', 'dense', [1500, 350], [350, 1500], dtype, new Scratch(1 << 14, 1 << 18));
    assert.equal(r.pieces, 3, `${dtype}: three bands of 117 output rows`);
    assert.ok(Math.max(...r.reads) <= 1 << 14, `${dtype}: source blocks of at most 64 KB`);
    assert.ok(r.bytes.equals(r.want), `${dtype}: same bytes`);
  }
  // A Linear kept as a 1x1 conv in the checkpoint.
  const conv1x1 = streamed('head.kernel', 'dense', [1250, 450], [450, 1250, 1, 1], 'float32', new Scratch(1 << 14, 1 << 18));
  assert.ok(conv1x1.pieces > 1 && conv1x1.bytes.equals(conv1x1.want));
});

test('conv, depthwise and vector weights stream equal to their whole permutation; buffers are shared between weights', () => {
  const scratch = new Scratch();
  for (const [kind, shape, torchShape] of [
    ['conv2d', [3, 3, 64, 40], [40, 64, 3, 3]],
    ['conv2d', [1, 1, 96, 24], [24, 96, 1, 1]],
    ['depthwise', [5, 5, 72, 1], [72, 1, 5, 5]],
    ['vector', [2_200_000], [2_200_000]],
    ['vector', [40], [40]],
  ] as Array<[ParamKind, number[], number[]]>) {
    const r = streamed('w', kind, shape, torchShape, 'float32', scratch);
    assert.ok(r.bytes.equals(r.want), `${kind} [${shape}]`);
  }
});
