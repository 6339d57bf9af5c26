// A pickle writer for exactly what a torch.save checkpoint holds: None, bools, ints, strings,
// tuples, lists, dicts, OrderedDicts (with `_metadata`) and tensors as persistent storage
// references, in protocol 2 as torch.save writes it. No floats: torch 1.13's `weights_only=True`
// loader refuses them, and a state dict needs none.
import { STORAGE_TYPES } from './storage.js';
import type { DType } from './types.js';

/** A tensor to pickle: its storage record key and how to rebuild it (contiguous, offset 0). */
export interface PickledTensor {
  kind: 'tensor';
  storageKey: string;
  dtype: DType;
  shape: number[];
}

/** A Python `tuple`. */
export class PyTuple {
  constructor(readonly items: PickleValue[]) {}
}

/** `collections.OrderedDict`, optionally with the `_metadata` attribute state dicts carry. */
export class PyOrderedDict {
  constructor(readonly entries: Array<[string, PickleValue]>, readonly metadata?: Array<[string, Record<string, number | string>]>) {}
}

export type PickleValue =
  | null | boolean | number | bigint | string
  | PickleValue[] | PyTuple | PyOrderedDict | Map<string, PickleValue> | PickledTensor;

const op = {
  PROTO: 0x80, STOP: 0x2e, NONE: 0x4e, NEWTRUE: 0x88, NEWFALSE: 0x89, BININT: 0x4a, BININT1: 0x4b, BININT2: 0x4d,
  LONG1: 0x8a, BINUNICODE: 0x58, EMPTY_TUPLE: 0x29, TUPLE1: 0x85, TUPLE2: 0x86, TUPLE3: 0x87, MARK: 0x28, TUPLE: 0x74,
  EMPTY_LIST: 0x5d, APPENDS: 0x65, EMPTY_DICT: 0x7d, SETITEMS: 0x75, GLOBAL: 0x63, REDUCE: 0x52, BUILD: 0x62, BINPERSID: 0x51,
} as const;

class Writer {
  private chunks: Buffer[] = [];
  private cur = Buffer.allocUnsafe(1 << 16);
  private at = 0;

  private room(n: number): void {
    if (this.at + n <= this.cur.length) return;
    this.chunks.push(this.cur.subarray(0, this.at));
    this.cur = Buffer.allocUnsafe(Math.max(1 << 16, n));
    this.at = 0;
  }

  byte(b: number): void {
    this.room(1);
    this.cur[this.at++] = b;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.cur.set(b, this.at);
    this.at += b.length;
  }

  u32(v: number): void {
    this.room(4);
    this.cur.writeUInt32LE(v, this.at);
    this.at += 4;
  }

  done(): Buffer {
    return Buffer.concat([...this.chunks, this.cur.subarray(0, this.at)]);
  }
}

/** Two's-complement little-endian bytes of `v`, as pickle's LONG1 stores them. */
function longBytes(v: bigint): Uint8Array {
  const out: number[] = [];
  let x = v;
  for (;;) {
    const b = Number(x & 0xffn);
    out.push(b);
    x >>= 8n;
    if ((x === 0n && (b & 0x80) === 0) || (x === -1n && (b & 0x80) !== 0)) break;
  }
  return Uint8Array.from(out);
}

function int(w: Writer, v: number | bigint): void {
  if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new Error(`internal: pickling ${v}, which is not an integer`);
  const n = BigInt(v);
  if (n >= 0n && n < 256n) {
    w.byte(op.BININT1);
    w.byte(Number(n));
  } else if (n >= 0n && n < 65536n) {
    w.byte(op.BININT2);
    w.byte(Number(n) & 0xff);
    w.byte(Number(n) >> 8);
  } else if (n >= -(2n ** 31n) && n < 2n ** 31n) {
    w.byte(op.BININT);
    w.u32(Number(BigInt.asUintN(32, n)));
  } else {
    const b = longBytes(n);
    w.byte(op.LONG1);
    w.byte(b.length);
    w.bytes(b);
  }
}

function str(w: Writer, s: string): void {
  const b = Buffer.from(s, 'utf8');
  w.byte(op.BINUNICODE);
  w.u32(b.length);
  w.bytes(b);
}

function global(w: Writer, module: string, name: string): void {
  w.byte(op.GLOBAL);
  w.bytes(Buffer.from(`${module}\n${name}\n`, 'latin1'));
}

function tuple(w: Writer, items: PickleValue[]): void {
  if (items.length === 0) return w.byte(op.EMPTY_TUPLE);
  if (items.length > 3) w.byte(op.MARK);
  for (const x of items) value(w, x);
  w.byte(items.length === 1 ? op.TUPLE1 : items.length === 2 ? op.TUPLE2 : items.length === 3 ? op.TUPLE3 : op.TUPLE);
}

function setItems(w: Writer, entries: Iterable<[string, PickleValue]>): void {
  // Batches of 1000, as Python's pickler writes them.
  let open = 0;
  for (const [k, v] of entries) {
    if (open === 0) w.byte(op.MARK);
    str(w, k);
    value(w, v);
    if (++open === 1000) {
      w.byte(op.SETITEMS);
      open = 0;
    }
  }
  if (open > 0) w.byte(op.SETITEMS);
}

function orderedDict(w: Writer, entries: Iterable<[string, PickleValue]>, metadata?: Array<[string, Record<string, number | string>]>): void {
  global(w, 'collections', 'OrderedDict');
  w.byte(op.EMPTY_TUPLE);
  w.byte(op.REDUCE);
  setItems(w, entries);
  if (metadata) {
    // OrderedDict.__reduce__ passes the instance __dict__ ({'_metadata': ...}) to BUILD.
    w.byte(op.EMPTY_DICT);
    const inner = metadata.map(([k, v]) => [k, new Map(Object.entries(v))] as [string, PickleValue]);
    setItems(w, [['_metadata', new PyOrderedDict(inner)]]);
    w.byte(op.BUILD);
  }
}

function contiguousStride(shape: number[]): number[] {
  const stride = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    stride[d] = s;
    s *= shape[d];
  }
  return stride;
}

/** dtype → the storage class torch pickles for it (`torch.FloatStorage`, ...). */
const STORAGE_NAME = new Map([...STORAGE_TYPES.values()].filter((t) => t.dtype).map((t) => [t.dtype as DType, t.name]));

function tensor(w: Writer, t: PickledTensor): void {
  // torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, backward_hooks)
  global(w, 'torch._utils', '_rebuild_tensor_v2');
  w.byte(op.MARK);
  const numel = t.shape.reduce((a, b) => a * b, 1);
  w.byte(op.MARK);
  str(w, 'storage');
  global(w, 'torch', STORAGE_NAME.get(t.dtype) as string);
  str(w, t.storageKey);
  str(w, 'cpu');
  int(w, numel);
  w.byte(op.TUPLE);
  w.byte(op.BINPERSID);
  int(w, 0);
  tuple(w, t.shape);
  tuple(w, contiguousStride(t.shape));
  w.byte(op.NEWFALSE);
  orderedDict(w, []);
  w.byte(op.TUPLE);
  w.byte(op.REDUCE);
}

function value(w: Writer, v: PickleValue): void {
  if (v === null) w.byte(op.NONE);
  else if (v === true) w.byte(op.NEWTRUE);
  else if (v === false) w.byte(op.NEWFALSE);
  else if (typeof v === 'number' || typeof v === 'bigint') int(w, v);
  else if (typeof v === 'string') str(w, v);
  else if (v instanceof PyTuple) tuple(w, v.items);
  else if (v instanceof PyOrderedDict) orderedDict(w, v.entries, v.metadata);
  else if (v instanceof Map) {
    w.byte(op.EMPTY_DICT);
    setItems(w, v);
  } else if (Array.isArray(v)) {
    w.byte(op.EMPTY_LIST);
    if (v.length > 0) {
      w.byte(op.MARK);
      for (const x of v) value(w, x);
      w.byte(op.APPENDS);
    }
  } else if (v.kind === 'tensor') tensor(w, v);
}

/** The protocol-2 pickle of `root`. */
export function pickle(root: PickleValue): Buffer {
  const w = new Writer();
  w.byte(op.PROTO);
  w.byte(2);
  value(w, root);
  w.byte(op.STOP);
  return w.done();
}
