// Conv2D and FusedConv2D on wasm as products on torchport's SIMD GEMM (simd-product.ts). An NHWC
// input [N, H, W, Cin] under a 1x1 filter at stride 1 without padding is already a row-major
// [N·H·W, Cin] matrix, and an HWIO filter is a [kh·kw·Cin, Cout] one. Other filters go through
// im2col: the input patch under each output pixel, laid out in the filter's (ky, kx, c) order,
// becomes one row of a [N·OH·OW, kh·kw·Cin] matrix on the heap. XNNPACK ran the detector's 3x3
// convs over 256 channels at ~7 GFLOP/s (the RPN head's and the FPN's at 10 x 10: ~17 ms each).
// Convolutions the GEMM declines go to XNNPACK.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { convolutionFastPaths, type ConvolutionAttrs } from './composite.js';
import { alignLine, HeapGemm } from '../simd/heap-gemm.js';
import { backendGemm, gemmTakes, heapAddress, productByRows, simdProduct } from './simd-product.js';

/**
 * im2col is built a block of rows at a time, at most this many floats (4 MiB, cache-sized), and
 * multiplied before the next block: a stride-4 map (80 x 80 x 256 at batch 2, 3x3) would need a
 * 113 MiB matrix whole. Filter gradients sum over the rows, so their blocks are taller (16 MiB):
 * each block adds to the whole [kh·kw·Cin, Cout] result.
 */
const COLUMN_BLOCK_FLOATS = 1 << 20;
const FILTER_GRAD_BLOCK_FLOATS = 1 << 22;

/** Writes rows [r0, r1) of the im2col matrix of x (NHWC, at float offset `src` of `heap`) at float offset `dst`. */
function im2col(heap: Float32Array, src: number, dst: number, info: tf.backend_util.Conv2DInfo, r0: number, r1: number): void {
  const { inHeight, inWidth, inChannels: c, outHeight, outWidth, strideHeight, strideWidth, dilationHeight, dilationWidth, filterHeight, filterWidth, padInfo } = info;
  const plane = outHeight * outWidth;
  for (let r = r0; r < r1; r++) {
    const image = src + Math.floor(r / plane) * inHeight * inWidth * c;
    const oy = Math.floor((r % plane) / outWidth);
    const ox = r % outWidth;
    for (let ky = 0; ky < filterHeight; ky++) {
      const iy = oy * strideHeight - padInfo.top + ky * dilationHeight;
      for (let kx = 0; kx < filterWidth; kx++) {
        const ix = ox * strideWidth - padInfo.left + kx * dilationWidth;
        const from = image + (iy * inWidth + ix) * c;
        if (iy < 0 || iy >= inHeight || ix < 0 || ix >= inWidth) heap.fill(0, dst, dst + c);
        else if (c >= 16) heap.copyWithin(dst, from, from + c);
        else for (let i = 0; i < c; i++) heap[dst + i] = heap[from + i]; // cheaper than a call for a few floats
        dst += c;
      }
    }
  }
}

/** Rows per im2col block of `depth` columns, within `floats`, a multiple of the GEMM's row block. */
const blockRows = (depth: number, floats: number) => Math.max(128, Math.floor(floats / depth / 128) * 128);

/** A float view of the whole heap (taken after the last allocation). */
const heapFloats = (backend: BackendWasm, t: tf.TensorInfo) => new Float32Array((backend.typedArrayFromHeap(t) as Float32Array).buffer);

function convolve(backend: BackendWasm, x: tf.TensorInfo, filter: tf.TensorInfo, attrs: ConvolutionAttrs, bias: tf.TensorInfo | undefined, relu: boolean): tf.TensorInfo | undefined {
  if (x.shape.length !== 4 || attrs.dataFormat !== 'NHWC' || x.dtype !== 'float32') return undefined;
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number], attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode);
  const { batchSize, outHeight, outWidth, inChannels, outChannels, filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = info;
  const rows = batchSize * outHeight * outWidth;
  const depth = filterHeight * filterWidth * inChannels;
  const pointwise = filterHeight === 1 && filterWidth === 1 && strideHeight === 1 && strideWidth === 1 && padInfo.top === 0 && padInfo.left === 0 && padInfo.bottom === 0 && padInfo.right === 0;
  if (pointwise) {
    return simdProduct(backend, {
      a: { ...x, shape: [rows, depth] },
      b: { ...filter, shape: [depth, outChannels] },
      transposeA: false,
      transposeB: false,
      bias,
      relu,
      outShape: [batchSize, outHeight, outWidth, outChannels],
    });
  }
  const gemm = gemmTakes(rows, depth, outChannels) ? backendGemm(backend) : undefined;
  if (!gemm || filter.dtype !== 'float32' || (bias && (bias.dtype !== 'float32' || tf.util.sizeFromShape(bias.shape) !== outChannels))) return undefined;
  const out = backend.makeOutput([batchSize, outHeight, outWidth, outChannels], 'float32');
  const perBlock = Math.min(rows, blockRows(depth, COLUMN_BLOCK_FLOATS));
  const columns = backend.makeOutput([perBlock * depth], 'float32');
  const right = { b: { ...filter, shape: [depth, outChannels] }, transposeB: false, k: depth, n: outChannels, bias, relu };
  productByRows(backend, gemm, right, out, rows, perBlock, (r0, count) => {
    const at = heapAddress(backend, columns);
    im2col(heapFloats(backend, columns), heapAddress(backend, x) / 4, at / 4, info, r0, r0 + count);
    return { address: at, rowBytes: 4 * depth, stepBytes: 4 };
  });
  backend.disposeData(columns.dataId);
  return out;
}

export const { plain: simdConv2D, fused: simdFusedConv2D } = convolutionFastPaths(convolve);

/**
 * dW [kh·kw·Cin, Cout] = im2col(x)ᵀ · dy [N·OH·OW, Cout], summed over blocks of im2col rows (the
 * forward conv's `info`). Undefined where the GEMM does not take the product.
 */
export function simdConv2DBackpropFilter(backend: BackendWasm, x: tf.TensorInfo, dy: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo | undefined {
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') return undefined;
  const { batchSize, outHeight, outWidth, inChannels, outChannels: n, filterHeight, filterWidth } = info;
  const rows = batchSize * outHeight * outWidth;
  const depth = filterHeight * filterWidth * inChannels;
  const gemm = gemmTakes(depth, rows, n) ? backendGemm(backend) : undefined;
  if (!gemm) return undefined;
  const out = backend.makeOutput([filterHeight, filterWidth, inChannels, n], 'float32');
  const perBlock = Math.min(rows, blockRows(depth, FILTER_GRAD_BLOCK_FLOATS));
  const columns = backend.makeOutput([perBlock * depth], 'float32');
  const packed = backend.makeOutput([HeapGemm.packedBytes(perBlock, n) / 4], 'float32');
  const scratch = backend.makeOutput([HeapGemm.scratchBytes(depth, perBlock) / 4], 'float32');
  for (let r0 = 0; r0 < rows; r0 += perBlock) {
    const count = Math.min(perBlock, rows - r0);
    const at = heapAddress(backend, columns);
    im2col(heapFloats(backend, columns), heapAddress(backend, x) / 4, at / 4, info, r0, r0 + count);
    const panels = alignLine(heapAddress(backend, packed));
    gemm.pack({ address: heapAddress(backend, dy) + 4 * r0 * n, rowBytes: 4 * n, stepBytes: 4 }, count, n, panels);
    // the block's im2col rows read as columns: element (d, r) at at + 4·d + 4·depth·r
    const left = { address: at, rowBytes: 4, stepBytes: 4 * depth };
    gemm.multiply(left, depth, count, panels, n, heapAddress(backend, out), alignLine(heapAddress(backend, scratch)), undefined, false, r0 > 0);
  }
  for (const t of [columns, packed, scratch]) backend.disposeData(t.dataId);
  return out;
}
