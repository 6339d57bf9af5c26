// Conv2D and FusedConv2D on wasm as products on torchport's SIMD GEMM (simd_product.ts). An NHWC
// input [N, H, W, Cin] under a 1x1 filter at stride 1 without padding is already a row-major
// [N·H·W, Cin] matrix, and an HWIO filter is a [kh·kw·Cin, Cout] one. Other filters go through
// im2col: the input patch under each output pixel, laid out in the filter's (ky, kx, c) order,
// becomes one row of a [N·OH·OW, kh·kw·Cin] matrix on the heap. XNNPACK ran the detector's 3x3
// convs over 256 channels at ~7 GFLOP/s (the RPN head's and the FPN's at 10 x 10: ~17 ms each).
// Convolutions the GEMM declines, and those whose im2col matrix would be large, go to XNNPACK.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { convolutionFastPaths, type ConvolutionAttrs } from './composite.js';
import { gemmTakes, simdProduct } from './simd_product.js';

/** im2col matrices above this many floats (64 MiB) are not built; XNNPACK runs the conv. */
const MAX_COLUMNS_FLOATS = 1 << 24;

/** Writes the im2col matrix of x (NHWC, at float offset `src` of `heap`) at float offset `dst`. */
function im2col(heap: Float32Array, src: number, dst: number, info: tf.backend_util.Conv2DInfo): void {
  const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth, strideHeight, strideWidth, dilationHeight, dilationWidth, filterHeight, filterWidth, padInfo } = info;
  for (let n = 0; n < batchSize; n++) {
    const image = src + n * inHeight * inWidth * c;
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++) {
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
  }
}

function convolve(backend: BackendWasm, x: tf.TensorInfo, filter: tf.TensorInfo, attrs: ConvolutionAttrs, bias: tf.TensorInfo | undefined, relu: boolean): tf.TensorInfo | undefined {
  if (x.shape.length !== 4 || attrs.dataFormat !== 'NHWC' || x.dtype !== 'float32') return undefined;
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number], attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode);
  const { batchSize, outHeight, outWidth, inChannels, outChannels, filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = info;
  const rows = batchSize * outHeight * outWidth;
  const depth = filterHeight * filterWidth * inChannels;
  const product = (a: tf.TensorInfo) => simdProduct(backend, {
    a: { ...a, shape: [rows, depth] },
    b: { ...filter, shape: [depth, outChannels] },
    transposeA: false,
    transposeB: false,
    bias,
    relu,
    outShape: [batchSize, outHeight, outWidth, outChannels],
  });
  if (!gemmTakes(rows, depth, outChannels)) return undefined;
  const pointwise = filterHeight === 1 && filterWidth === 1 && strideHeight === 1 && strideWidth === 1 && padInfo.top === 0 && padInfo.left === 0 && padInfo.bottom === 0 && padInfo.right === 0;
  if (pointwise) return product(x);
  if (rows * depth > MAX_COLUMNS_FLOATS) return undefined;
  const columns = backend.makeOutput([rows, depth], 'float32');
  const heap = backend.typedArrayFromHeap(columns) as Float32Array;
  im2col(new Float32Array(heap.buffer), backend.typedArrayFromHeap(x).byteOffset / 4, heap.byteOffset / 4, info);
  const out = product(columns);
  backend.disposeData(columns.dataId);
  return out;
}

export const { plain: simdConv2D, fused: simdFusedConv2D } = convolutionFastPaths(convolve);
