// Micro-benchmarks behind the choices in src/backend/kernels (not a test; run by hand):
//   node --import tsx bench/backend-kernels.ts
// 1. UnsortedSegmentSum (gather's gradient) at RoIAlign scale: the scatter-add kernel vs a chunked
//    one-hot matMul built from wasm ops.
// 2. Conv2DBackpropInput: torchport's composite kernel vs stock wasm's.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { selectBackend } from '../src/backend/select.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(f: () => tf.Tensor, runs = 5): number {
  tf.dispose(f());
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = f();
    r.dataSync();
    ms.push(performance.now() - t0);
    r.dispose();
  }
  return median(ms);
}

/** The alternative measured against: out = onehot(ids)^T @ x, chunk by chunk. */
function oneHotSegmentSum(x: tf.Tensor2D, ids: tf.Tensor1D, numSegments: number, chunk = 8192): tf.Tensor {
  return tf.tidy(() => {
    const segments = tf.reshape(tf.range(0, numSegments, 1, 'int32'), [numSegments, 1]);
    let out: tf.Tensor = tf.zeros([numSegments, x.shape[1]]);
    for (let start = 0; start < x.shape[0]; start += chunk) {
      const size = Math.min(chunk, x.shape[0] - start);
      const hot = tf.cast(tf.equal(segments, tf.reshape(tf.slice(ids, start, size), [1, size])), 'float32');
      out = tf.add(out, tf.matMul(hot as tf.Tensor2D, tf.slice(x, [start, 0], [size, -1])));
    }
    return out;
  });
}

const stock = tf.getKernel('Conv2DBackpropInput', 'wasm')!; // before torchport replaces it
await selectBackend('wasm');
console.log('UnsortedSegmentSum, ms (median of 5)');
console.log('rows\tchannels\tsegments\tscatter\tone-hot matMul');
for (const [rows, channels, segments] of process.argv.includes("--conv-only") ? [] : [[50_000, 256, 1600], [200_000, 256, 1600], [200_000, 256, 6400]]) {
  const x = tf.randomNormal([rows, channels]) as tf.Tensor2D;
  const ids = tf.randomUniform([rows], 0, segments, 'int32') as tf.Tensor1D;
  const scatter = time(() => tf.unsortedSegmentSum(x, ids, segments));
  const oneHot = rows * segments <= 50_000 * 1600 ? time(() => oneHotSegmentSum(x, ids, segments), 2).toFixed(0) : '(skipped: O(rows*segments))';
  console.log(`${rows}\t${channels}\t${segments}\t${scatter.toFixed(1)}\t${oneHot}`);
  tf.dispose([x, ids]);
}

console.log('\nConv2DBackpropInput, ms (median of 5): torchport composite vs stock wasm');
const composite = tf.getKernel('Conv2DBackpropInput', 'wasm')!;
for (const [n, h, cin, cout, k, s] of [[2, 56, 24, 72, 1, 1], [2, 28, 40, 120, 1, 1], [2, 40, 256, 256, 3, 1], [2, 112, 3, 16, 3, 2], [2, 40, 128, 128, 3, 2], [2, 56, 72, 72, 5, 2]]) {
  const dy = tf.randomNormal([n, Math.ceil(h / s), Math.ceil(h / s), cout]) as tf.Tensor4D;
  const w = tf.randomNormal([k, k, cin, cout]) as tf.Tensor4D;
  const run = () => tf.conv2dTranspose(dy, w, [n, h, h, cin], s, 'same');
  const row: string[] = [];
  for (const kernel of [composite, stock]) {
    tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
    tf.registerKernel(kernel);
    row.push(time(run).toFixed(1));
  }
  console.log(`${n}x${h}x${h}x${cin} <- ${cout}, k${k} s${s}: ${row.join(' vs ')}`);
  tf.dispose([dy, w]);
}
