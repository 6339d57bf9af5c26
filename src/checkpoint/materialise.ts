// Turns LazyTensors into contiguous CheckpointTensors: validates sizes against the storage before
// touching memory, shares the file's bytes when a tensor is a contiguous, aligned, little-endian run
// (zero copy), and otherwise copies once (gathering strided views, byte-swapping big-endian files).
import { InputError } from '../errors.js';
import { typedArrayOf } from './dtype.js';
import { OrderedDict, PyInstance } from './pyobjects.js';
import { CheckpointTensor, LazyTensor, QuantizedTensor, storageBytes, UnsupportedTensor } from './storage.js';
import type { TensorData } from './types.js';

export interface MaterialiseContext {
  file: string;
  /** Bytes that copies may still allocate; bounds memory by the file size (stride-0 views can amplify). */
  copyBudget: number;
  /** Leave each tensor's bytes unread until its `data` is first used. */
  lazy?: boolean;
}

function fail(ctx: MaterialiseContext, msg: string): never {
  throw new InputError(msg, ctx.file);
}

function isContiguous(shape: number[], stride: number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) return false;
    expected *= shape[d];
  }
  return true;
}

function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i + size <= bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}

/** One element = `w` words of a Uint8/16/32 array (8-byte elements are two 32-bit words). */
function wordView(bytes: Uint8Array, elementSize: number): { words: Uint8Array | Uint16Array | Uint32Array; w: number } {
  const wordSize = Math.min(elementSize, 4);
  const n = bytes.byteLength / wordSize;
  const words = wordSize === 1 ? new Uint8Array(bytes.buffer, bytes.byteOffset, n)
    : wordSize === 2 ? new Uint16Array(bytes.buffer, bytes.byteOffset, n)
      : new Uint32Array(bytes.buffer, bytes.byteOffset, n);
  return { words, w: elementSize / wordSize };
}

/** Copies a strided view into a fresh contiguous buffer. */
export function gather(src: Uint8Array, elementSize: number, offset: number, shape: number[], stride: number[], numel: number): ArrayBuffer {
  const out = new ArrayBuffer(numel * elementSize);
  const aligned = src.byteOffset % Math.min(elementSize, 4) === 0 ? src : new Uint8Array(src); // copies
  const { words: s, w } = wordView(aligned, elementSize);
  const { words: o } = wordView(new Uint8Array(out), elementSize);
  const nd = shape.length;
  const inner = shape[nd - 1];
  const innerStep = stride[nd - 1] * w;
  const rowWords = inner * w;
  const idx = new Array<number>(nd).fill(0);
  let base = offset * w;
  for (let at = 0; at < o.length; at += rowWords) {
    if (innerStep === w) {
      o.set(s.subarray(base, base + rowWords), at);
    } else if (w === 1) {
      for (let j = 0, p = base; j < inner; j++, p += innerStep) o[at + j] = s[p];
    } else {
      for (let j = 0, p = base; j < rowWords; j += 2, p += innerStep) { o[at + j] = s[p]; o[at + j + 1] = s[p + 1]; }
    }
    for (let d = nd - 2; d >= 0; d--) {
      base += stride[d] * w;
      if (++idx[d] < shape[d]) break;
      base -= shape[d] * stride[d] * w;
      idx[d] = 0;
    }
  }
  return out;
}

export function materialiseTensor(t: LazyTensor, name: string, ctx: MaterialiseContext): CheckpointTensor {
  const { storage, offset, shape, stride } = t;
  const { elementSize } = storage.type;
  const dtype = t.quant ? storage.type.quantized?.repr : storage.type.dtype;
  const where = `tensor '${name}'`;
  if (!dtype) fail(ctx, `${where} has dtype ${storage.type.unsupported} (torch.${storage.type.name}), which torchport does not read`);
  if (!storage.bytes && !storage.load) fail(ctx, `${where}: storage '${storage.key}' has no data`);
  if (offset < 0) fail(ctx, `${where} has a negative storage offset (${offset})`);
  let numel = 1;
  let last = offset;
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] < 0) fail(ctx, `${where} has a negative size ([${shape.join(', ')}])`);
    if (stride[d] < 0) fail(ctx, `${where} has a negative stride ([${stride.join(', ')}])`);
    numel *= shape[d];
    last += (shape[d] - 1) * stride[d];
  }
  if (!Number.isSafeInteger(numel) || !Number.isSafeInteger(last)) fail(ctx, `${where} has an impossible size ([${shape.join(', ')}])`);
  const shapeCopy = shape.slice();
  if (numel === 0) return new CheckpointTensor(dtype, shapeCopy, typedArrayOf(dtype, new ArrayBuffer(0), 0, 0), t.isParameter, t.requiresGrad);
  if (last >= storage.numel) {
    fail(ctx, `${where} (size [${shape.join(', ')}], stride [${stride.join(', ')}], offset ${offset}) reaches element ${last} `
      + `but its storage '${storage.key}' holds ${storage.numel} ${dtype} elements`);
  }
  const start = offset * elementSize;
  const nbytes = numel * elementSize;
  const contiguous = isContiguous(shape, stride);
  // Records read on demand land in fresh, aligned buffers; bytes already in memory may not be aligned.
  const aligned = !storage.bytes || (storage.bytes.byteOffset + start) % elementSize === 0;
  const view = contiguous && !storage.bigEndian && aligned;
  if (!view) {
    ctx.copyBudget -= nbytes;
    if (ctx.copyBudget < 0) fail(ctx, `${where} (size [${shape.join(', ')}]) would need more memory than the file's size justifies (a stride-0 view?)`);
  }
  const load = (): TensorData => {
    const bytes = storageBytes(storage);
    const byteOffset = bytes.byteOffset + start;
    if (contiguous && !storage.bigEndian && byteOffset % elementSize === 0) return typedArrayOf(dtype, bytes.buffer, byteOffset, numel);
    const buffer = contiguous
      ? new Uint8Array(bytes.subarray(start, start + nbytes)).buffer // a copy (Buffer#slice would not be)
      : gather(bytes, elementSize, offset, shape, stride, numel);
    if (storage.bigEndian && elementSize > 1) swapBytes(new Uint8Array(buffer), elementSize);
    return typedArrayOf(dtype, buffer, 0, numel);
  };
  return new CheckpointTensor(dtype, shapeCopy, ctx.lazy ? load : load(), t.isParameter, t.requiresGrad);
}

/** Numbers of a small materialised tensor (per-channel scales or zero points). */
function numbersOf(x: unknown, what: string, ctx: MaterialiseContext): number[] {
  if (!(x instanceof LazyTensor)) return fail(ctx, `${what} is not a tensor`);
  const t = materialiseTensor(x, what, ctx);
  if (t.shape.length !== 1) fail(ctx, `${what} has shape [${t.shape.join(', ')}], not one dimension`);
  return Array.from(t.data as ArrayLike<number | bigint>, Number);
}

function materialiseQuantized(t: LazyTensor, name: string, ctx: MaterialiseContext): QuantizedTensor {
  const repr = materialiseTensor(t, name, ctx);
  const q = t.quant!;
  const dtype = t.storage.type.quantized!.dtype;
  if (q.scheme === 'per_tensor_affine') return new QuantizedTensor(dtype, repr, q.scheme, q.scale, q.zeroPoint);
  const where = `quantized tensor '${name}'`;
  if (q.axis < 0 || q.axis >= repr.shape.length) fail(ctx, `${where} has axis ${q.axis} but ${repr.shape.length} dimensions`);
  const scales = numbersOf(q.scales, `${name} (scales)`, ctx);
  const zeroPoints = numbersOf(q.zeroPoints, `${name} (zero points)`, ctx);
  if (scales.length !== repr.shape[q.axis] || zeroPoints.length !== repr.shape[q.axis]) {
    fail(ctx, `${where} has ${scales.length} scales and ${zeroPoints.length} zero points for ${repr.shape[q.axis]} channels`);
  }
  return new QuantizedTensor(dtype, repr, q.scheme, scales, zeroPoints, q.axis);
}

/**
 * Replaces every LazyTensor reachable from `root` by its CheckpointTensor (in place; the same
 * LazyTensor referenced twice becomes the same object) and returns the new root. Iterative, so a
 * deeply nested file cannot overflow the call stack.
 */
export function materialiseAll(root: unknown, ctx: MaterialiseContext): unknown {
  const done = new Map<LazyTensor, CheckpointTensor | QuantizedTensor>();
  const visit = (value: unknown, where: Where): unknown => {
    if (value instanceof UnsupportedTensor) fail(ctx, `tensor '${pathOf(where)}' is ${value.reason}, which torchport does not read`);
    if (!(value instanceof LazyTensor)) return value;
    let t = done.get(value);
    if (!t) {
      const path = pathOf(where);
      done.set(value, (t = value.quant ? materialiseQuantized(value, path, ctx) : materialiseTensor(value, path, ctx)));
    }
    return t;
  };
  const top = visit(root, { parent: undefined, key: '<root>' });
  const seen = new Set<object>();
  const work: Array<[unknown, Where | undefined]> = [[top, undefined]];
  while (work.length) {
    const [node, at] = work.pop() as [unknown, Where | undefined];
    if (typeof node !== 'object' || node === null || seen.has(node)) continue;
    seen.add(node);
    if (node instanceof Map) {
      for (const [k, v] of node) {
        const where = { parent: at, key: k };
        const r = visit(v, where);
        if (r !== v) node.set(k, r);
        if (holdsValues(r)) work.push([r, where]);
      }
      if (node instanceof OrderedDict) work.push([node.attrs, at]);
    } else if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const where = { parent: at, key: i };
        node[i] = visit(node[i], where);
        if (holdsValues(node[i])) work.push([node[i], where]);
      }
    } else if (node instanceof PyInstance) {
      work.push([node.attrs, at], [node.args, { parent: at, key: '(args)' }]);
      if (node.listItems) work.push([node.listItems, at]);
      if (node.dictItems) work.push([node.dictItems, at]);
      const where = { parent: at, key: '(state)' };
      node.state = visit(node.state, where);
      work.push([node.state, where]);
    } else if (node instanceof Set) {
      for (const v of node) {
        const r = visit(v, { parent: at, key: '{}' });
        if (r !== v) { node.delete(v); node.add(r); }
      }
    }
  }
  return top;
}

/** Containers worth visiting: empty ones, tensors, bytes and primitives hold nothing to materialise. */
function holdsValues(x: unknown): boolean {
  if (Array.isArray(x)) return x.length > 0;
  if (x instanceof OrderedDict || x instanceof PyInstance) return true;
  return (x instanceof Map || x instanceof Set) && x.size > 0;
}

/** Where a value sits: its key and its container's place; the path string is built only for messages. */
interface Where { parent: Where | undefined; key: unknown }

/** `state_dict.stem.0.weight`, `x[3]`; the last 32 steps of a deeper path. */
function pathOf(where: Where): string {
  const keys: unknown[] = [];
  for (let w: Where | undefined = where; w && keys.length <= 32; w = w.parent) keys.push(w.key);
  const deep = keys.length > 32;
  let path = deep ? '…' : '';
  for (const key of keys.slice(0, 32).reverse()) path += typeof key === 'number' ? `[${key}]` : `${path ? '.' : ''}${String(key)}`;
  return path;
}
