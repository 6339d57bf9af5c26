// How unpickled Python objects are represented in JS. Plain containers map to JS ones (dict → Map,
// list/tuple → Array, set → Set, bytes → Uint8Array, int → number or bigint when unsafe); objects of
// allowlisted classes and inert placeholders are the classes below. None of them runs code.

/** Malformed arguments or state for one of torchport's stand-ins: bad input, reported at its opcode. */
export class DataError extends Error {}

/** An object that accepts pickle's BUILD opcode (Python's `__setstate__` / `__dict__.update`). */
export interface Buildable {
  setState(state: unknown): void;
}

/** A resolved global: what GLOBAL/STACK_GLOBAL pushes. Calling it runs only torchport's own code. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
    /** What calling it (REDUCE, NEWOBJ) produces; absent for a global that may only be referenced. */
    private readonly impl?: (args: unknown[]) => unknown,
  ) {}

  get qualname(): string {
    return `${this.module}.${this.name}`;
  }

  get callable(): boolean {
    return this.impl !== undefined;
  }

  call(args: unknown[]): unknown {
    if (!this.impl) throw new DataError(`global '${this.qualname}' is not callable in a checkpoint`);
    return this.impl(args);
  }
}

/**
 * An instance of a Python class that torchport keeps as inert data: its constructor arguments and
 * the attributes set by BUILD (e.g. `argparse.Namespace`, an `nn.Module`, or an unknown class kept as
 * a placeholder). Items appended or set on it (list/dict subclasses) are kept too.
 */
export class PyInstance implements Buildable {
  readonly attrs = new Map<string, unknown>();
  /** State passed to BUILD that was not an attribute dict. */
  state: unknown = undefined;
  listItems: unknown[] | undefined;
  dictItems: Map<unknown, unknown> | undefined;

  constructor(readonly className: string, readonly args: unknown[], readonly placeholder = false) {}

  setState(state: unknown): void {
    // Python's default: a dict updates __dict__; a (dict, slots) pair updates both.
    if (Array.isArray(state) && state.length === 2 && (state[0] === null || state[0] instanceof Map) && state[1] instanceof Map) {
      this.setState(state[0]);
      this.setState(state[1]);
    } else if (state instanceof Map) {
      for (const [k, v] of state) this.attrs.set(String(k), v);
    } else if (state !== null) {
      this.state = state;
    }
  }
}

/** `collections.OrderedDict`: a Map that also carries instance attributes (a state dict's `_metadata`). */
export class OrderedDict extends Map<unknown, unknown> implements Buildable {
  readonly attrs = new Map<string, unknown>();

  setState(state: unknown): void {
    if (!(state instanceof Map)) throw new DataError('OrderedDict state is not a dict');
    for (const [k, v] of state) this.attrs.set(String(k), v);
  }
}

export function isBuildable(x: unknown): x is Buildable {
  return typeof x === 'object' && x !== null && typeof (x as Partial<Buildable>).setState === 'function';
}
