// A pickle virtual machine (protocols 0-5) that builds data and never runs code: GLOBAL asks
// `resolveGlobal`, which returns only torchport's own stand-ins, and REDUCE/NEWOBJ/BUILD act only on
// those stand-ins.
//
// Why not `pickleparser` (the dependency this project first chose): it mishandles what checkpoints
// need. BUILD on a Map drops OrderedDict's `_metadata`; DICT with Map dictionaries writes JS
// properties instead of entries; LONG1/LONG4 decode negative ints as unsigned; OBJ takes the class
// from the wrong end of the marked items; object dictionaries let a `__proto__` key replace the
// prototype; a missing memo entry or MARK silently pushes `undefined`, so corrupted files fail later
// with TypeErrors instead of a clear message; and it calls `console.warn` on large lengths.
import { DataError, isBuildable, PyGlobal, PyInstance } from './pyobjects.js';

export interface UnpickleHooks {
  resolveGlobal(module: string, name: string): PyGlobal;
  persistentLoad(pid: unknown): unknown;
}

export interface Unpickled {
  value: unknown;
  /** Offset just past the STOP opcode. */
  end: number;
  /** Protocol from the PROTO opcode; without one, 1 if binary opcodes occur, else 0. */
  protocol: number;
}

/** A malformed pickle stream; `offset` is the byte where the bad opcode starts. */
export class PickleError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
    this.name = 'PickleError';
  }
}

const MARK_LIMIT = 1 << 20;
/**
 * Most values on the stack at once. Python's pickler sends list, dict and set items in batches of
 * 1,000, so only a tuple or frozenset of this many items, or a crafted stream, gets here.
 */
const MAX_STACK = 1 << 17;
/** Deepest container nesting read (Python's pickler cannot write past its recursion limit, 1,000). */
const MAX_NESTING = 10_000;

/** Opcodes of protocol 0: a stream without PROTO that uses any other is protocol 1. */
const PROTOCOL_0_OPCODES = new Set(Array.from('(.02FILNPRSVabcdgilpst', (c) => c.charCodeAt(0)));

/** Unpickles one object starting at `start` in `buf`. */
export function unpickle(buf: Buffer, start: number, hooks: UnpickleHooks): Unpickled {
  let pos = start;
  let opStart = start;
  let protocol = -1;
  let binary = false;
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  const end = buf.length;

  const fail = (msg: string): never => {
    throw new PickleError(msg, opStart);
  };
  const need = (n: number): number => {
    if (!Number.isSafeInteger(n) || n < 0) fail(`invalid length ${n}`);
    if (pos + n > end) fail(`truncated: needs ${n} bytes, ${end - pos} left`);
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = (): number => buf[need(1)];
  const u16 = (): number => buf.readUInt16LE(need(2));
  const i32 = (): number => buf.readInt32LE(need(4));
  const u32 = (): number => buf.readUInt32LE(need(4));
  const u64 = (): number => {
    const at = need(8);
    const hi = buf.readUInt32LE(at + 4);
    if (hi >= 0x200000) fail('length does not fit in memory');
    return hi * 2 ** 32 + buf.readUInt32LE(at);
  };
  const line = (): string => {
    const nl = buf.indexOf(0x0a, pos);
    if (nl < 0 || nl >= end) fail('truncated: missing end of line');
    const s = buf.toString('latin1', pos, nl);
    pos = nl + 1;
    return s.endsWith('\r') ? s.slice(0, -1) : s;
  };
  const bytes = (n: number): Uint8Array => {
    const at = need(n);
    return new Uint8Array(buf.buffer, buf.byteOffset + at, n); // a plain view, not a Buffer
  };
  const text = (n: number): string => {
    const at = need(n);
    return buf.toString('utf8', at, at + n);
  };
  // Nesting depth of the containers built so far. Python's pickler recurses per level, so no file
  // it writes nests past its recursion limit (1,000 by default); a crafted one nesting a million
  // levels would cost seconds to build and recursion later.
  const depths = new WeakMap<object, number>();
  const depthOf = (x: unknown): number => (typeof x === 'object' && x !== null ? (depths.get(x) ?? 0) : 0);
  const nest = <T extends object>(container: T, children: Iterable<unknown>): T => {
    let d = depths.get(container) ?? 0;
    for (const child of children) d = Math.max(d, depthOf(child) + 1);
    if (d > MAX_NESTING) fail(`containers nested deeper than ${MAX_NESTING.toLocaleString('en-US')} levels`);
    if (d > 0) depths.set(container, d);
    return container;
  };
  const fence = (): number => (marks.length ? marks[marks.length - 1] : 0);
  const pop = (): unknown => {
    if (stack.length <= fence()) fail('stack underflow');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length <= fence()) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) fail('no MARK on the stack');
    return stack.splice(m as number);
  };
  const memoGet = (i: number): unknown => {
    if (!memo.has(i)) fail(`memo entry ${i} is missing`);
    return memo.get(i);
  };
  const asGlobal = (x: unknown, what: string): PyGlobal => {
    if (!(x instanceof PyGlobal)) fail(`${what} on a value that is not a class or function`);
    return x as PyGlobal;
  };
  /** Runs a stand-in; its DataError (malformed arguments or state) is reported at this opcode. */
  const guard = <T>(what: string, f: () => T): T => {
    try {
      return f();
    } catch (err) {
      if (!(err instanceof DataError)) throw err;
      return fail(`${what}: ${err.message}`);
    }
  };
  const call = (g: PyGlobal, args: unknown): unknown => {
    if (!Array.isArray(args)) fail(`arguments for '${g.qualname}' are not a tuple`);
    return guard(g.qualname, () => g.call(args as unknown[]));
  };
  const setItems = (target: unknown, items: unknown[]): void => {
    if (items.length % 2) fail('odd number of items for a dict');
    const map = dictOf(target);
    for (let i = 0; i < items.length; i += 2) map.set(items[i], items[i + 1]);
  };
  const dictOf = (target: unknown): Map<unknown, unknown> => {
    if (target instanceof Map) return target;
    if (target instanceof PyInstance) return (target.dictItems ??= new Map());
    return fail('SETITEM on a value that is not a dict');
  };
  const listOf = (target: unknown): unknown[] => {
    if (Array.isArray(target)) return target;
    if (target instanceof PyInstance) return (target.listItems ??= []);
    return fail('APPEND on a value that is not a list');
  };
  const addItems = (target: unknown, items: unknown[]): void => {
    if (!(target instanceof Set)) fail('ADDITEMS on a value that is not a set');
    for (const x of items) (target as Set<unknown>).add(x);
  };
  const parseInt10 = (s: string): number | bigint => {
    const t = s.endsWith('L') ? s.slice(0, -1) : s;
    if (!/^[+-]?\d+$/.test(t)) fail(`invalid integer literal '${s}'`);
    return narrow(BigInt(t));
  };
  const parseFloatLine = (s: string): number => {
    const t = s.trim().toLowerCase();
    if (t === 'nan' || t === '-nan') return NaN;
    if (t === 'inf') return Infinity;
    if (t === '-inf') return -Infinity;
    const v = Number(t);
    if (t === '' || Number.isNaN(v)) fail(`invalid float literal '${s}'`);
    return v;
  };
  const quoted = (s: string): string => {
    const q = s[0];
    if (s.length < 2 || (q !== '"' && q !== "'") || s[s.length - 1] !== q) fail('insecure string pickle');
    return unescapePython(s.slice(1, -1));
  };

  while (pos < end) {
    if (stack.length > MAX_STACK) fail(`more than ${MAX_STACK.toLocaleString('en-US')} values on the stack`);
    opStart = pos;
    const op = buf[pos++];
    if (!binary && !PROTOCOL_0_OPCODES.has(op)) binary = true;
    switch (op) {
      case 0x80: // PROTO
        protocol = u8();
        if (protocol > 5) fail(`unsupported pickle protocol ${protocol}`);
        break;
      case 0x95: // FRAME
        need(8);
        break;
      case 0x2e: { // STOP
        const value = pop();
        return { value, end: pos, protocol: protocol >= 0 ? protocol : binary ? 1 : 0 };
      }
      case 0x28: // MARK
        if (marks.length >= MARK_LIMIT) fail('too many nested MARKs');
        marks.push(stack.length);
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      // memo
      case 0x70: memo.set(Number(parseInt10(line())), top()); break; // PUT
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x67: stack.push(memoGet(Number(parseInt10(line())))); break; // GET
      case 0x68: stack.push(memoGet(u8())); break; // BINGET
      case 0x6a: stack.push(memoGet(u32())); break; // LONG_BINGET
      // constants and numbers
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x49: { // INT
        const s = line();
        stack.push(s === '01' ? true : s === '00' ? false : parseInt10(s));
        break;
      }
      case 0x4c: stack.push(parseInt10(line())); break; // LONG
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: stack.push(decodeLong(bytes(u8()))); break; // LONG1
      case 0x8b: { // LONG4
        const n = i32();
        if (n < 0) fail('negative LONG4 length');
        stack.push(decodeLong(bytes(n)));
        break;
      }
      case 0x46: stack.push(parseFloatLine(line())); break; // FLOAT
      case 0x47: stack.push(buf.readDoubleBE(need(8))); break; // BINFLOAT
      // strings and bytes
      case 0x53: stack.push(quoted(line())); break; // STRING
      case 0x54: { // BINSTRING
        const n = i32();
        if (n < 0) fail('negative BINSTRING length');
        stack.push(text(n));
        break;
      }
      case 0x55: stack.push(text(u8())); break; // SHORT_BINSTRING
      case 0x56: stack.push(unescapeRawUnicode(line())); break; // UNICODE
      case 0x58: stack.push(text(u32())); break; // BINUNICODE
      case 0x8c: stack.push(text(u8())); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(text(u64())); break; // BINUNICODE8
      case 0x42: stack.push(bytes(u32())); break; // BINBYTES
      case 0x43: stack.push(bytes(u8())); break; // SHORT_BINBYTES
      case 0x8e: stack.push(bytes(u64())); break; // BINBYTES8
      case 0x96: stack.push(bytes(u64())); break; // BYTEARRAY8
      case 0x97: fail('out-of-band buffers (NEXT_BUFFER) do not occur in checkpoints'); break;
      case 0x98: top(); break; // READONLY_BUFFER
      // containers
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x8f: stack.push(new Set()); break; // EMPTY_SET
      case 0x74: case 0x6c: { const items = popMark(); stack.push(nest(items, items)); break; } // TUPLE, LIST
      case 0x85: { const t = [pop()]; stack.push(nest(t, t)); break; } // TUPLE1
      case 0x86: { const b = pop(); const a = pop(); const t = [a, b]; stack.push(nest(t, t)); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); const t = [a, b, c]; stack.push(nest(t, t)); break; } // TUPLE3
      case 0x64: { const d = new Map(); const items = popMark(); setItems(d, items); stack.push(nest(d, items)); break; } // DICT
      case 0x91: { const items = popMark(); stack.push(nest(new Set(items), items)); break; } // FROZENSET
      case 0x61: { const v = pop(); nest(listOf(top()), [v]).push(v); break; } // APPEND
      case 0x65: { const items = popMark(); const l = nest(listOf(top()), items); for (const x of items) l.push(x); break; } // APPENDS
      case 0x73: { const v = pop(); const k = pop(); nest(dictOf(top()), [k, v]).set(k, v); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); nest(dictOf(top()), items); break; } // SETITEMS
      case 0x90: { const items = popMark(); addItems(top(), items); nest(top() as Set<unknown>, items); break; } // ADDITEMS
      // globals and objects
      case 0x63: { const module = line(); const name = line(); stack.push(hooks.resolveGlobal(module, name)); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(hooks.resolveGlobal(module as string, name as string));
        break;
      }
      case 0x52: { const args = pop(); const g = asGlobal(pop(), 'REDUCE'); stack.push(call(g, args)); break; } // REDUCE
      case 0x81: { const args = pop(); const g = asGlobal(pop(), 'NEWOBJ'); stack.push(call(g, args)); break; } // NEWOBJ
      case 0x92: { // NEWOBJ_EX
        const kwargs = pop();
        const args = pop();
        const g = asGlobal(pop(), 'NEWOBJ_EX');
        if (!(kwargs instanceof Map) || kwargs.size > 0) fail(`keyword arguments for '${g.qualname}' are not supported`);
        stack.push(call(g, args));
        break;
      }
      case 0x69: { // INST
        const module = line();
        const name = line();
        const args = popMark();
        stack.push(call(hooks.resolveGlobal(module, name), args));
        break;
      }
      case 0x6f: { // OBJ
        const items = popMark();
        if (items.length === 0) fail('OBJ without a class');
        stack.push(call(asGlobal(items[0], 'OBJ'), items.slice(1)));
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        const obj = top();
        if (!isBuildable(obj)) fail('BUILD on a value that takes no state');
        guard('BUILD', () => (obj as { setState(s: unknown): void }).setState(state));
        break;
      }
      case 0x50: stack.push(hooks.persistentLoad(line())); break; // PERSID
      case 0x51: stack.push(hooks.persistentLoad(pop())); break; // BINPERSID
      case 0x82: case 0x83: case 0x84: fail('extension-registry opcodes (EXT) do not occur in checkpoints'); break;
      default:
        fail(`unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }
  throw new PickleError('truncated: no STOP opcode', pos);
}

/** A bigint as a number when it is exactly representable. */
function narrow(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Little-endian two's complement (LONG1/LONG4). */
function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  if (b.length <= 6) {
    let v = 0;
    for (let i = b.length - 1; i >= 0; i--) v = v * 256 + b[i];
    return b[b.length - 1] & 0x80 ? v - 2 ** (8 * b.length) : v;
  }
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
  return narrow(v);
}

/** Python string-literal escapes used by protocol 0's STRING opcode. */
function unescapePython(s: string): string {
  return s.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
    const simple: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '0': '\0' };
    return simple[e] ?? `\\${e}`;
  });
}

/** `raw-unicode-escape`, the encoding of protocol 0's UNICODE opcode. */
function unescapeRawUnicode(s: string): string {
  // The line was read as latin1, so unescaped bytes are already their code points.
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, u: string | undefined, U: string | undefined) =>
    String.fromCodePoint(parseInt((u ?? U) as string, 16)));
}
