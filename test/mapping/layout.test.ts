// PyTorch → TF.js layouts follow from the target kind and the source shape.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { permute, planLayout } from '../../src/mapping/layout.js';

test('each kind accepts its PyTorch shapes and names the TF.js shape', () => {
  assert.deepEqual(planLayout('conv2d', [8, 3, 5, 7]), { shape: [5, 7, 3, 8], perm: [2, 3, 1, 0], viewShape: [8, 3, 5, 7] });
  assert.deepEqual(planLayout('depthwise', [8, 1, 3, 3]), { shape: [3, 3, 8, 1], perm: [2, 3, 0, 1], viewShape: [8, 1, 3, 3] });
  assert.deepEqual(planLayout('dense', [10, 4]), { shape: [4, 10], perm: [1, 0], viewShape: [10, 4] });
  assert.deepEqual(planLayout('dense', [10, 4, 1, 1]), { shape: [4, 10], perm: [1, 0], viewShape: [10, 4] });
  assert.deepEqual(planLayout('vector', [6]), { shape: [6], perm: [0], viewShape: [6] });
});

test('shapes a kind cannot take are explained', () => {
  assert.deepEqual(planLayout('conv2d', [8, 3]), { error: 'a conv2d kernel needs a 4-D [out, in, kh, kw] source, got [8, 3]' });
  assert.deepEqual(planLayout('depthwise', [8, 2, 3, 3]), { error: 'a depthwise kernel needs a [C, 1, kh, kw] source, got [8, 2, 3, 3]' });
  assert.deepEqual(planLayout('dense', [10, 4, 3, 3]), { error: 'a dense kernel needs a Linear [out, in] or 1x1 conv [out, in, 1, 1] source, got [10, 4, 3, 3]' });
  assert.deepEqual(planLayout('vector', [6, 1]), { error: 'a vector needs a 1-D source, got [6, 1]' });
});

test('permute moves every element where the axis permutation says (OIHW → HWIO)', () => {
  const [o, i, h, w] = [3, 2, 4, 5];
  const src = Float32Array.from({ length: o * i * h * w }, (_, k) => k);
  const out = permute(src, [o, i, h, w], [2, 3, 1, 0]);
  for (let a = 0; a < o; a++) for (let b = 0; b < i; b++) for (let c = 0; c < h; c++) for (let d = 0; d < w; d++) {
    const from = ((a * i + b) * h + c) * w + d;
    const to = ((c * w + d) * i + b) * o + a;
    assert.equal(out[to], src[from]);
  }
  const same = new Float32Array([1, 2, 3]);
  assert.equal(permute(same, [3], [0]), same, 'the identity permutation is not copied');
});

test('permute equals the index-by-index permutation for every axis order, unit axes and tile edges included', () => {
  const naive = (data: Float32Array, shape: number[], perm: number[]): Float32Array => {
    const outShape = perm.map((p) => shape[p]);
    const stride = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
    const out = new Float32Array(data.length);
    for (let o = 0; o < out.length; o++) {
      let rest = o;
      let from = 0;
      for (let d = outShape.length - 1; d >= 0; d--) {
        from += (rest % outShape[d]) * stride[perm[d]];
        rest = Math.floor(rest / outShape[d]);
      }
      out[o] = data[from];
    }
    return out;
  };
  const orders = (n: number): number[][] => (n === 1 ? [[0]] : orders(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)])));
  for (const shape of [[3, 3, 70, 130], [1, 1, 65, 129], [3, 1, 67, 1], [2, 5, 1, 3], [130, 67], [1, 1, 1, 1], [7]]) {
    const src = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, k) => k);
    for (const perm of orders(shape.length)) {
      const want = naive(src, shape, perm);
      assert.deepEqual(permute(src, shape, perm), want, `[${shape}] by [${perm}]`);
      const into = new Float32Array(src.length);
      assert.equal(permute(src, shape, perm, into), into);
      assert.deepEqual(into, want, `[${shape}] by [${perm}] into a given array`);
    }
  }
});
