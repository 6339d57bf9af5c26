// Conv2D and FusedConv2D on wasm for 1x1 filters at stride 1 without padding (most of
// MobileNetV3's and the FPN's arithmetic): an NHWC input [N, H, W, Cin] is already a row-major
// [N·H·W, Cin] matrix and the HWIO filter a [Cin, Cout] one, so the convolution is one product
// on torchport's SIMD GEMM. Other convolutions, and the ones it declines, go to XNNPACK.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { withFastPath } from './composite.js';
import { simdProduct } from './simd_product.js';

interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | number[][];
  dataFormat: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  activation?: string;
}

const ones = (v: number | number[] | undefined) => v === undefined || [v].flat().every((x) => x === 1);
const unpadded = (pad: ConvAttrs['pad']) => pad === 'valid' || pad === 'same' || pad === 0 || (Array.isArray(pad) && pad.flat().every((p) => p === 0));

function pointwise(backend: BackendWasm, x: tf.TensorInfo, filter: tf.TensorInfo, attrs: ConvAttrs, bias: tf.TensorInfo | undefined, relu: boolean): tf.TensorInfo | undefined {
  const [kh, kw, cin, cout] = filter.shape;
  if (kh !== 1 || kw !== 1 || x.shape.length !== 4 || attrs.dataFormat !== 'NHWC' || !ones(attrs.strides) || !ones(attrs.dilations) || !unpadded(attrs.pad)) return undefined;
  const [n, h, w] = x.shape;
  return simdProduct(backend, {
    a: { ...x, shape: [n * h * w, cin] },
    b: { ...filter, shape: [cin, cout] },
    transposeA: false,
    transposeB: false,
    bias,
    relu,
    outShape: [n, h, w, cout],
  });
}

export const simdConv2D = withFastPath((args) => {
  const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
  return pointwise(args.backend as BackendWasm, x, filter, args.attrs as unknown as ConvAttrs, undefined, false);
});

export const simdFusedConv2D = withFastPath((args) => {
  const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
  const attrs = args.attrs as unknown as ConvAttrs;
  if (!x || !filter || preluActivationWeights || (attrs.activation !== 'linear' && attrs.activation !== 'relu')) return undefined;
  return pointwise(args.backend as BackendWasm, x, filter, attrs, bias, attrs.activation === 'relu');
});
