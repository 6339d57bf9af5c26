// A TensorFlow GraphDef in the JSON form tfjs-converter writes (model.json's `modelTopology`),
// built node by node. Tensors are referred to as TF does: `node` (output 0) or `node:i`. Constants
// are Const nodes whose values go to the weights manifest under the node's name. Every op is
// checked against the graph executor's op list as it is added; one it lacks is refused with the
// layer that needed it.
import { InputError } from '../../errors.js';
import { SUPPORTED_OPS } from './supported-ops.js';

export type DType = 'float32' | 'int32' | 'bool';

export interface GraphNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, unknown>;
}

export interface GraphConstant {
  name: string;
  dtype: 'float32' | 'int32';
  shape: number[];
  data: Float32Array | Int32Array;
}

const TF_DTYPE: Record<DType, string> = { float32: 'DT_FLOAT', int32: 'DT_INT32', bool: 'DT_BOOL' };

/** Attribute values in the GraphDef's JSON form. */
export const attr = {
  type: (t: DType) => ({ type: TF_DTYPE[t] }),
  int: (n: number) => ({ i: String(n) }),
  float: (n: number) => ({ f: n }),
  bool: (b: boolean) => ({ b }),
  str: (s: string) => ({ s: Buffer.from(s).toString('base64') }),
  ints: (l: number[]) => ({ list: { i: l.map(String) } }),
  strs: (l: string[]) => ({ list: { s: l.map((s) => Buffer.from(s).toString('base64')) } }),
  shape: (dims: number[]) => ({ shape: { dim: dims.map((d) => ({ size: String(d) })) } }),
};

/** An op the graph executor lacks, with the layer that needs it. */
export class UnsupportedOpError extends InputError {
  constructor(
    readonly op: string,
    readonly layer: string,
    why = '',
  ) {
    super(`${layer}: needs the op ${op}, which the TF.js graph executor (tfjs-converter 4.22) lacks${why ? ` (${why})` : ''}`);
  }
}

export class GraphBuilder {
  readonly nodes: GraphNode[] = [];
  readonly constants: GraphConstant[] = [];
  private readonly used = new Set<string>();
  private readonly scopes: string[] = [];

  /** The layer being built (for names and errors). */
  get layer(): string {
    return this.scopes.join('/') || 'graph';
  }

  /** Runs `fn` with nodes named under `name` (e.g. a layer's parameter prefix). */
  scope<T>(name: string, fn: () => T): T {
    this.scopes.push(name);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  private unique(base: string): string {
    const stem = [...this.scopes, base].join('/');
    let name = stem;
    for (let i = 1; this.used.has(name); i++) name = `${stem}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Adds a node; returns the name of its first output. */
  op(op: string, inputs: string[], attrs: Record<string, unknown> = {}, name: string = op): string {
    if (!SUPPORTED_OPS.has(op)) throw new UnsupportedOpError(op, this.layer);
    const node: GraphNode = { name: this.unique(name), op };
    if (inputs.length > 0) node.input = inputs;
    if (Object.keys(attrs).length > 0) node.attr = attrs;
    this.nodes.push(node);
    return node.name;
  }

  /** A node with its exact name (inputs and outputs of the model). */
  named(name: string, op: string, inputs: string[], attrs: Record<string, unknown> = {}): string {
    if (this.used.has(name)) throw new Error(`internal: graph node '${name}' exists`);
    this.used.add(name);
    if (!SUPPORTED_OPS.has(op)) throw new UnsupportedOpError(op, this.layer);
    this.nodes.push({ name, op, ...(inputs.length > 0 ? { input: inputs } : {}), ...(Object.keys(attrs).length > 0 ? { attr: attrs } : {}) });
    return name;
  }

  const(data: Float32Array | Int32Array | number[], shape: number[], name = 'const', dtype: 'float32' | 'int32' = data instanceof Int32Array ? 'int32' : 'float32'): string {
    const values = dtype === 'int32' ? Int32Array.from(data) : Float32Array.from(data);
    const size = shape.reduce((a, b) => a * b, 1);
    if (values.length !== size) throw new Error(`internal: constant '${name}' has ${values.length} values for shape [${shape.join(', ')}]`);
    const node = this.op('Const', [], { dtype: attr.type(dtype), value: { tensor: { dtype: TF_DTYPE[dtype], tensorShape: { dim: shape.map((d) => ({ size: String(d) })) } } } }, name);
    this.constants.push({ name: node, dtype, shape, data: values });
    return node;
  }

  scalar(v: number, dtype: 'float32' | 'int32' = 'float32'): string {
    return this.const(dtype === 'int32' ? Int32Array.of(v) : Float32Array.of(v), [], 'scalar', dtype);
  }

  ints(v: number[]): string {
    return this.const(Int32Array.from(v), [v.length], 'ints', 'int32');
  }

  /** The GraphDef JSON (model.json's modelTopology). */
  graphDef(): { node: GraphNode[]; library: Record<string, never>; versions: { producer: number } } {
    return { node: this.nodes, library: {}, versions: { producer: 1482 } };
  }
}
