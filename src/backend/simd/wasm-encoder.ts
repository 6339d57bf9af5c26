// The few pieces of the WebAssembly binary format that torchport's generated kernels need: one
// imported memory, i32 functions, structured loops and 128-bit SIMD loads, stores and arithmetic.
// Kernels are generated at run time (a few hundred bytes) instead of shipping a compiled binary,
// so their source stays TypeScript and their shape (tile sizes, unrolling) stays a parameter.

/** Unsigned LEB128. */
function uleb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
function sleb(value: number): number[] {
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function name(text: string): number[] {
  const bytes = [...Buffer.from(text, 'utf8')];
  return [...uleb(bytes.length), ...bytes];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function vector(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

export const I32 = 0x7f;
export const V128 = 0x7b;
export type ValueType = typeof I32 | typeof V128;

const SIMD_PREFIX = 0xfd;

/** Instruction emitter for one function body; locals are numbered after the parameters. */
export class FunctionBody {
  readonly bytes: number[] = [];
  private readonly locals: ValueType[] = [];

  constructor(readonly params: number) {}

  local(type: ValueType): number {
    this.locals.push(type);
    return this.params + this.locals.length - 1;
  }

  get(index: number): this {
    return this.op(0x20, ...uleb(index));
  }

  set(index: number): this {
    return this.op(0x21, ...uleb(index));
  }

  i32(value: number): this {
    return this.op(0x41, ...sleb(value));
  }

  add(): this {
    return this.op(0x6a);
  }

  sub(): this {
    return this.op(0x6b);
  }

  mul(): this {
    return this.op(0x6c);
  }

  ltU(): this {
    return this.op(0x49);
  }

  ltS(): this {
    return this.op(0x48);
  }

  gtS(): this {
    return this.op(0x4a);
  }

  /** select: pops a, b, condition; pushes condition ? a : b. */
  select(): this {
    return this.op(0x1b);
  }

  /** `local += value` for an i32 local. */
  increment(index: number, value: number): this {
    return this.get(index).i32(value).add().set(index);
  }

  /** `local += other` for i32 locals. */
  addLocal(index: number, other: number): this {
    return this.get(index).get(other).add().set(index);
  }

  /** A `do { body } while (condition)` loop; `condition` leaves an i32 on the stack. */
  doWhile(body: () => void, condition: () => void): this {
    this.op(0x03, 0x40);
    body();
    condition();
    return this.op(0x0d, 0x00, 0x0b);
  }

  /** i32.load from the address on the stack plus `offset` bytes. */
  loadI32(offset = 0): this {
    return this.op(0x28, 2, ...uleb(offset));
  }

  /** f32.load from the address on the stack plus `offset` bytes. */
  loadF32(offset = 0): this {
    return this.op(0x2a, 2, ...uleb(offset));
  }

  /** f32.store of the value on the stack at the address under it, plus `offset` bytes. */
  storeF32(offset = 0): this {
    return this.op(0x38, 2, ...uleb(offset));
  }

  /** v128.load from the address on the stack plus `offset` bytes. */
  load(offset = 0): this {
    return this.simd(0x00, 4, ...uleb(offset));
  }

  /** v128.load32_splat: one f32 at address + `offset`, in all four lanes. */
  loadSplat(offset = 0): this {
    return this.simd(0x09, 2, ...uleb(offset));
  }

  /** v128.store of the value on the stack at the address under it, plus `offset` bytes. */
  store(offset = 0): this {
    return this.simd(0x0b, 4, ...uleb(offset));
  }

  /**
   * i8x16.shuffle of the two vectors on the stack, by 32-bit lanes: `lanes[i]` picks lane i of the
   * result, 0-3 from the first vector, 4-7 from the second.
   */
  shuffle32(lanes: [number, number, number, number]): this {
    return this.simd(0x0d, ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]));
  }

  f32x4Add(): this {
    return this.simd(0xe4);
  }

  f32x4Max(): this {
    return this.simd(0xe9);
  }

  f32x4Min(): this {
    return this.simd(0xe8);
  }

  f32x4Mul(): this {
    return this.simd(0xe6);
  }

  f32x4Div(): this {
    return this.simd(0xe7);
  }

  /** v128.const with `value` in all four f32 lanes. */
  f32x4Splat(value: number): this {
    this.op(SIMD_PREFIX, ...uleb(0x0c));
    const lane = new Uint8Array(Float32Array.of(value).buffer);
    for (let i = 0; i < 4; i++) this.bytes.push(...lane);
    return this;
  }

  /** `while (local > 0) { body; local -= 1 }` for an i32 counter. */
  countDown(counter: number, body: () => void): this {
    this.op(0x02, 0x40, 0x03, 0x40);
    this.get(counter).i32(1).ltS().op(0x0d, 0x01); // br_if to the block's end
    body();
    this.get(counter).i32(1).sub().set(counter);
    return this.op(0x0c, 0x00, 0x0b, 0x0b); // br to the loop's start; end loop; end block
  }

  /** `if (condition on the stack) { body }`. */
  when(body: () => void): this {
    this.op(0x04, 0x40);
    body();
    return this.op(0x0b);
  }

  /** v128.const 0.0 in every f32 lane. */
  zero(): this {
    return this.f32x4Splat(0);
  }

  /** Relaxed SIMD `a * b + c` (fused on CPUs with FMA); pops a, b, c. */
  relaxedMadd(): this {
    return this.op(SIMD_PREFIX, ...uleb(0x105));
  }

  encode(): number[] {
    const groups: number[][] = [];
    for (const type of this.locals) {
      const last = groups[groups.length - 1];
      if (last && last[1] === type) last[0]++;
      else groups.push([1, type]);
    }
    const body = [...vector(groups.map(([count, type]) => [...uleb(count), type])), ...this.bytes, 0x0b];
    return [...uleb(body.length), ...body];
  }

  private simd(opcode: number, ...immediates: number[]): this {
    return this.op(SIMD_PREFIX, ...uleb(opcode), ...immediates);
  }

  private op(...bytes: number[]): this {
    this.bytes.push(...bytes);
    return this;
  }
}

export interface ExportedFunction {
  name: string;
  body: FunctionBody;
}

/** A module that imports `env.memory` and exports functions whose parameters are all i32, without results. */
export function encodeModule(functions: ExportedFunction[]): Uint8Array<ArrayBuffer> {
  const types = functions.map((f) => [0x60, ...vector(new Array<number[]>(f.body.params).fill([I32])), 0x00]);
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector(types)),
    ...section(2, vector([[...name('env'), ...name('memory'), 0x02, 0x00, 0x01]])),
    ...section(3, vector(functions.map((_, i) => uleb(i)))),
    ...section(7, vector(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vector(functions.map((f) => f.body.encode()))),
  ];
  return Uint8Array.from(bytes) as Uint8Array<ArrayBuffer>;
}
