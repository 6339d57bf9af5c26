// DepthwiseConv2dNative and FusedDepthwiseConv2D on wasm through torchport's relaxed-SIMD depthwise
// kernel (src/backend/simd/depthwise-kernel.ts): NHWC float32, channel multiplier 1, dilation 1,
// channels a multiple of 8, each padding smaller than the filter, linear or ReLU. The rest go to
// XNNPACK.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { DEPTHWISE_CHANNEL_MULTIPLE, heapDepthwise } from '../simd/heap-depthwise.js';
import { convolutionFastPaths, type ConvolutionAttrs } from './composite.js';
import { simdEnabled } from './simd-product.js';
import { backendMemory } from './wasm-heap.js';

function depthwise(backend: BackendWasm, x: tf.TensorInfo, filter: tf.TensorInfo, attrs: ConvolutionAttrs, bias: tf.TensorInfo | undefined, relu: boolean): tf.TensorInfo | undefined {
  if (!simdEnabled() || x.shape.length !== 4 || x.dtype !== 'float32' || filter.dtype !== 'float32' || attrs.dataFormat !== 'NHWC') return undefined;
  if (bias && (bias.dtype !== 'float32' || tf.util.sizeFromShape(bias.shape) !== x.shape[3])) return undefined;
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number], attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, true);
  const { padInfo, filterHeight: kh, filterWidth: kw } = info;
  const multiplier = filter.shape[3];
  if (multiplier !== 1 || info.dilationHeight !== 1 || info.dilationWidth !== 1 || info.inChannels % DEPTHWISE_CHANNEL_MULTIPLE !== 0) return undefined;
  if (padInfo.top >= kh || padInfo.bottom >= kh || padInfo.left >= kw || padInfo.right >= kw) return undefined; // every output needs a tap
  const memory = backendMemory(backend);
  const kernel = memory && heapDepthwise(memory);
  if (!kernel) return undefined;
  const out = backend.makeOutput([info.batchSize, info.outHeight, info.outWidth, info.outChannels], 'float32');
  const address = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t).byteOffset;
  kernel.run(address(x), address(filter), bias ? address(bias) : 0, address(out), {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    channels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    filterHeight: kh,
    filterWidth: kw,
    padTop: padInfo.top,
    padLeft: padInfo.left,
  }, relu);
  return out;
}

export const { plain: simdDepthwise, fused: simdFusedDepthwise } = convolutionFastPaths(depthwise);
