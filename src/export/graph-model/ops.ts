// Readable wrappers for the ops the graph builders emit (float32 unless an int32 is asked for).
import { attr, type GraphBuilder } from './graph.js';

const F = attr.type('float32');
const I = attr.type('int32');

export class Ops {
  constructor(readonly g: GraphBuilder) {}

  add(a: string, b: string) { return this.g.op('AddV2', [a, b], { T: F }); }
  sub(a: string, b: string) { return this.g.op('Sub', [a, b], { T: F }); }
  mul(a: string, b: string) { return this.g.op('Mul', [a, b], { T: F }); }
  div(a: string, b: string) { return this.g.op('RealDiv', [a, b], { T: F }); }
  max(a: string, b: string) { return this.g.op('Maximum', [a, b], { T: F }); }
  min(a: string, b: string, dtype: 'float32' | 'int32' = 'float32') { return this.g.op('Minimum', [a, b], { T: attr.type(dtype) }); }
  addInt(a: string, b: string) { return this.g.op('AddV2', [a, b], { T: I }); }
  mulInt(a: string, b: string) { return this.g.op('Mul', [a, b], { T: I }); }
  floorDivInt(a: string, b: string) { return this.g.op('FloorDiv', [a, b], { T: I }); }
  floorModInt(a: string, b: string) { return this.g.op('FloorMod', [a, b], { T: I }); }
  neg(x: string) { return this.g.op('Neg', [x], { T: F }); }
  exp(x: string) { return this.g.op('Exp', [x], { T: F }); }
  log(x: string) { return this.g.op('Log', [x], { T: F }); }
  sqrt(x: string) { return this.g.op('Sqrt', [x], { T: F }); }
  floor(x: string) { return this.g.op('Floor', [x], { T: F }); }
  ceil(x: string) { return this.g.op('Ceil', [x], { T: F }); }
  round(x: string) { return this.g.op('Round', [x], { T: F }); }
  relu(x: string) { return this.g.op('Relu', [x], { T: F }); }
  relu6(x: string) { return this.g.op('Relu6', [x], { T: F }); }
  sigmoid(x: string) { return this.g.op('Sigmoid', [x], { T: F }); }
  softmax(x: string) { return this.g.op('Softmax', [x], { T: F }); }
  f(v: number) { return this.g.scalar(v); }
  i(v: number) { return this.g.scalar(v, 'int32'); }
  ints(v: number[]) { return this.g.ints(v); }

  cast(x: string, to: 'float32' | 'int32' | 'bool', from: 'float32' | 'int32' | 'bool') {
    return this.g.op('Cast', [x], { SrcT: attr.type(from), DstT: attr.type(to), Truncate: attr.bool(false) });
  }
  shape(x: string) { return this.g.op('Shape', [x], { T: F, out_type: I }); }
  size(x: string, dtype: 'float32' | 'int32' = 'float32') { return this.g.op('Size', [x], { T: attr.type(dtype), out_type: I }); }
  reshape(x: string, shape: number[] | string, dtype: 'float32' | 'int32' | 'bool' = 'float32') {
    return this.g.op('Reshape', [x, typeof shape === 'string' ? shape : this.ints(shape)], { T: attr.type(dtype), Tshape: I });
  }
  transpose(x: string, perm: number[]) { return this.g.op('Transpose', [x, this.ints(perm)], { T: F, Tperm: I }); }
  concat(xs: string[], axis: number, dtype: 'float32' | 'int32' = 'float32') {
    if (xs.length === 1) return xs[0];
    return this.g.op('ConcatV2', [...xs, this.i(axis)], { N: attr.int(xs.length), T: attr.type(dtype), Tidx: I });
  }
  slice(x: string, begin: number[] | string, size: number[] | string, dtype: 'float32' | 'int32' = 'float32') {
    const b = typeof begin === 'string' ? begin : this.ints(begin);
    const s = typeof size === 'string' ? size : this.ints(size);
    return this.g.op('Slice', [x, b, s], { T: attr.type(dtype), Index: I });
  }
  gather(x: string, indices: string, axis: number, dtype: 'float32' | 'int32' = 'float32') {
    return this.g.op('GatherV2', [x, indices, this.i(axis)], { Tparams: attr.type(dtype), Tindices: I, Taxis: I, batch_dims: attr.int(0) });
  }
  /**
   * Rows `indices` of `x`, which may have no rows: TF.js's stock wasm GatherV2 returns a wrongly
   * shaped result for an empty `x`, so a zero row (`rowShape`) is appended first (never indexed).
   */
  gatherRows(x: string, indices: string, rowShape: number[], dtype: 'float32' | 'int32' = 'float32') {
    const size = rowShape.reduce((a, b) => a * b, 1);
    const zero = this.g.const(dtype === 'int32' ? new Int32Array(size) : new Float32Array(size), [1, ...rowShape], 'zero_row', dtype);
    return this.gather(this.concat([x, zero], 0, dtype), indices, 0, dtype);
  }
  greater(a: string, b: string) { return this.g.op('Greater', [a, b], { T: F }); }
  greaterEqual(a: string, b: string) { return this.g.op('GreaterEqual', [a, b], { T: F }); }
  equalInt(a: string, b: string) { return this.g.op('Equal', [a, b], { T: I }); }
  and(a: string, b: string) { return this.g.op('LogicalAnd', [a, b]); }
  /** Indices where a 1-D bool is true, as a 1-D int32. */
  where(mask: string) { return this.reshape(this.whereCoords(mask), [-1], 'int32'); }
  /** Coordinates where a bool tensor is true: int32 `[count, rank]`, row-major order. */
  whereCoords(mask: string) { return this.g.op('Where', [mask], { T: attr.type('bool') }); }
  range(start: string, limit: string, delta: string) { return this.g.op('Range', [start, limit, delta], { Tidx: I }); }
  /** The `k` largest values (sorted, ties by index) and their indices. */
  topk(x: string, k: string): { values: string; indices: string } {
    const n = this.g.op('TopKV2', [x, k], { T: F, sorted: attr.bool(true) });
    return { values: n, indices: `${n}:1` };
  }
  mean(x: string, axes: number[], keepDims: boolean) { return this.g.op('Mean', [x, this.ints(axes)], { T: F, Tidx: I, keep_dims: attr.bool(keepDims) }); }
  reduceMax(x: string, axes: number[], keepDims: boolean) { return this.g.op('Max', [x, this.ints(axes)], { T: F, Tidx: I, keep_dims: attr.bool(keepDims) }); }
  reduceMin(x: string, axes: number[], keepDims: boolean) { return this.g.op('Min', [x, this.ints(axes)], { T: F, Tidx: I, keep_dims: attr.bool(keepDims) }); }
  pool(op: 'MaxPool' | 'AvgPool', x: string, k: [number, number], s: [number, number]) {
    return this.g.op(op, [x], { T: F, ksize: attr.ints([1, ...k, 1]), strides: attr.ints([1, ...s, 1]), padding: attr.str('VALID'), data_format: attr.str('NHWC') });
  }
  pad(x: string, paddings: string) { return this.g.op('Pad', [x, paddings], { T: F, Tpaddings: I }); }

  /** Conv (or depthwise conv) with PyTorch's symmetric padding, optional bias and ReLU fused. */
  conv(x: string, kernel: string, opts: { stride: number; pad: number; depthwise?: boolean; bias?: string; relu?: boolean }): string {
    const common = {
      T: F,
      strides: attr.ints([1, opts.stride, opts.stride, 1]),
      dilations: attr.ints([1, 1, 1, 1]),
      data_format: attr.str('NHWC'),
      ...(opts.pad > 0
        ? { padding: attr.str('EXPLICIT'), explicit_paddings: attr.ints([0, 0, opts.pad, opts.pad, opts.pad, opts.pad, 0, 0]) }
        : { padding: attr.str('VALID') }),
    };
    if (!opts.bias) return this.g.op(opts.depthwise ? 'DepthwiseConv2dNative' : 'Conv2D', [x, kernel], common);
    const fused = opts.relu ? ['BiasAdd', 'Relu'] : ['BiasAdd'];
    return this.g.op(opts.depthwise ? 'FusedDepthwiseConv2dNative' : '_FusedConv2D', [x, kernel, opts.bias], {
      ...common,
      num_args: attr.int(1),
      fused_ops: attr.strs(fused),
      epsilon: attr.float(0),
    });
  }

  /** x · w + b, ReLU fused on request. */
  dense(x: string, w: string, b: string, relu = false): string {
    return this.g.op('_FusedMatMul', [x, w, b], {
      T: F,
      transpose_a: attr.bool(false),
      transpose_b: attr.bool(false),
      num_args: attr.int(1),
      fused_ops: attr.strs(relu ? ['BiasAdd', 'Relu'] : ['BiasAdd']),
      epsilon: attr.float(0),
    });
  }

  /** Hard-sigmoid, relu6(x + 3) / 6, and hard-swish, x * that, in torchport's operation order. */
  hardSigmoid(x: string) { return this.div(this.relu6(this.add(x, this.f(3))), this.f(6)); }
  hardSwish(x: string) { return this.mul(x, this.hardSigmoid(x)); }
}
