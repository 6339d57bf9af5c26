// The SIMD transpose moves every float where the element-by-element definition says, across tile
// and 4×4-block edges and between strided rows, bit for bit (signalling NaN payloads included).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WasmTranspose } from '../../src/backend/simd/transpose.js';

test('the SIMD transpose equals out[c·outStride + r] = in[r·inStride + c] bit for bit, edges and strides included', () => {
  const t = new WasmTranspose();
  for (const [rows, cols, inPad, outPad] of [[1, 1, 0, 0], [4, 4, 0, 0], [3, 7, 0, 0], [70, 130, 0, 0], [129, 66, 5, 3], [8, 1, 2, 0], [1, 9, 0, 4]]) {
    const inStride = cols + inPad;
    const outStride = rows + outPad;
    const from = 3; // not 16-byte aligned
    const to = from + rows * inStride + 1;
    t.reserve(to + cols * outStride);
    const bits = new Uint32Array(t.memory.buffer);
    bits.fill(0xdeadbeef);
    // Signalling NaNs with distinct payloads: a float register on the way would set their quiet bit.
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) bits[from + r * inStride + c] = 0x7f800001 + r * cols + c;
    t.run(from, rows, cols, inStride, to, outStride);
    for (let c = 0; c < cols; c++) {
      for (let r = 0; r < rows; r++) assert.equal(bits[to + c * outStride + r], 0x7f800001 + r * cols + c, `${rows}×${cols}: [${c}, ${r}]`);
      for (let r = rows; r < outStride && c * outStride + r < cols * outStride; r++) assert.equal(bits[to + c * outStride + r], 0xdeadbeef, `${rows}×${cols}: padding [${c}, ${r}] untouched`);
    }
  }
});
