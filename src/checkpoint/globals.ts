// The unpickler's allowlist, modeled on torch's `_weights_only_unpickler`: the globals a plain
// checkpoint references, each mapped to torchport's own inert stand-in. Anything else is refused, or
// (allowUnknownGlobals) kept as a placeholder that records its arguments; globals that can run code
// are refused always. Nothing named by a file is ever imported or executed.
import { halfToFloat } from './dtype.js';
import { OrderedDict, PyGlobal, PyInstance, type Buildable } from './pyobjects.js';
import { LazyTensor, STORAGE_TYPES, UnsupportedTensor, type Storage, type StorageType } from './storage.js';

/** A global the file may not use; `dangerous` when it can run code. */
export class RefusedGlobalError extends Error {
  constructor(readonly qualname: string, readonly dangerous: boolean) {
    super(dangerous
      ? `refusing to read: it references '${qualname}', which can run code; this is not a plain checkpoint (nothing from it was executed)`
      : `refusing to read: it references '${qualname}', which is not a plain checkpoint type; pass --allow-unknown-globals (allowUnknownGlobals) to keep such objects as inert placeholders`);
    this.name = 'RefusedGlobalError';
  }
}

/** `torch.FloatStorage` and friends: referenced in storage persistent ids, never called. */
export class StorageClass extends PyGlobal {
  constructor(readonly type: StorageType) {
    super('torch', type.name);
  }
}

/** Modules whose globals can execute code, touch files or processes, or call arbitrary functions. */
const DANGEROUS_MODULES = new Set([
  'os', 'posix', 'nt', 'posixpath', 'ntpath', 'subprocess', 'sys', 'shutil', 'socket', 'importlib', 'pickle', '_pickle',
  'marshal', 'ctypes', 'runpy', 'code', 'codeop', 'pty', 'webbrowser', 'multiprocessing', 'threading', '_thread',
  'signal', 'io', '_io', 'pathlib', 'tempfile', 'urllib', 'http', 'ftplib', 'smtplib', 'telnetlib', 'asyncio', 'pdb',
  'bdb', 'timeit', 'platform', 'commands', 'popen2', 'builtins', '__builtin__', 'operator', '_operator', 'functools',
  'itertools', 'types', 'copyreg', 'copy_reg', '_codecs', 'codecs', 'inspect', 'gc', 'weakref', 'dill', 'cloudpickle',
  'joblib', 'numpy.testing', 'torch.hub', 'torch.jit', 'torch._C', 'torch.ops', 'torch.package', 'torch.serialization',
  'torch.utils.cpp_extension', 'torch.distributed', 'torch.multiprocessing', 'torch.cuda', 'torch.backends', 'yaml',
  'shelve', 'sqlite3', 'zipimport', 'glob', 'fileinput', 'site', 'sysconfig', 'distutils', 'setuptools', 'pip',
]);

const DANGEROUS_TORCH_FUNCTIONS = new Set(['load', 'save', 'compile', 'set_default_tensor_type', 'set_default_dtype', 'manual_seed']);

function isDangerous(module: string, name: string): boolean {
  const parts = module.split('.');
  for (let i = 1; i <= parts.length; i++) if (DANGEROUS_MODULES.has(parts.slice(0, i).join('.'))) return true;
  if (module === 'torch' && DANGEROUS_TORCH_FUNCTIONS.has(name)) return true;
  return /^(eval|exec|compile|system|popen|spawn\w*|exec\w*|__import__|getattr|setattr|open|apply)$/.test(name);
}

const TORCH_DTYPES = new Set([
  'float32', 'float', 'float16', 'half', 'bfloat16', 'float64', 'double', 'int8', 'int16', 'short', 'int32', 'int',
  'int64', 'long', 'uint8', 'bool', 'complex64', 'complex128', 'cfloat', 'cdouble', 'qint8', 'quint8', 'qint32',
  'uint16', 'uint32', 'uint64', 'float8_e4m3fn', 'float8_e5m2',
  // quantization schemes, referenced by quantized tensors (which are then refused by name)
  'per_tensor_affine', 'per_channel_affine', 'per_tensor_symmetric', 'per_channel_symmetric',
  'per_channel_affine_float_qparams',
]);

/** Python 2 module names that protocol 0-2 pickles use (Python's fix_imports maps them back). */
const PY2_MODULES: Record<string, string> = {
  __builtin__: 'builtins', exceptions: 'builtins', copy_reg: 'copyreg', commands: 'subprocess', cPickle: 'pickle',
  UserDict: 'collections', UserList: 'collections', thread: '_thread', Queue: 'queue', urllib2: 'urllib.request',
};

/** Tensor kinds a checkpoint may hold but torchport does not read; reaching one is an error naming it. */
const UNSUPPORTED_REBUILDS: Record<string, string> = {
  _rebuild_qtensor: 'a quantized tensor',
  _rebuild_sparse_tensor: 'a sparse tensor',
  _rebuild_sparse_csr_tensor: 'a sparse CSR tensor',
  _rebuild_nested_tensor: 'a nested tensor',
  _rebuild_meta_tensor_no_storage: 'a meta tensor (no data)',
  _rebuild_wrapper_subclass: 'a tensor subclass without storage',
  _rebuild_device_tensor_from_numpy: 'a device tensor stored as a numpy array',
  _rebuild_xla_tensor: 'an XLA tensor',
  _rebuild_mlc_tensor: 'an MLC tensor',
  _rebuild_tensor_v3: 'a tensor whose dtype differs from its storage',
};

function int(x: unknown, what: string): number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x)) throw new Error(`${what} is not an integer`);
  return x;
}

function ints(x: unknown, what: string): number[] {
  if (!Array.isArray(x)) throw new Error(`${what} is not a tuple`);
  return x.map((v, i) => int(v, `${what}[${i}]`));
}

function rebuildTensor(args: unknown[]): LazyTensor | UnsupportedTensor {
  const [storage, offset, size, stride, requiresGrad] = args;
  if (storage instanceof UnsupportedTensor) return storage;
  if (!(storage instanceof Object) || !('type' in storage) || !('numel' in storage)) throw new Error('first argument is not a storage');
  const t = new LazyTensor(storage as Storage, int(offset, 'storage offset'), ints(size, 'size'), ints(stride, 'stride'));
  if (t.shape.length !== t.stride.length) throw new Error(`size has ${t.shape.length} dims but stride has ${t.stride.length}`);
  t.requiresGrad = requiresGrad === true;
  return t;
}

function rebuildParameter(args: unknown[]): LazyTensor | UnsupportedTensor {
  const [data, requiresGrad] = args;
  if (data instanceof UnsupportedTensor) return data;
  if (!(data instanceof LazyTensor)) throw new Error('parameter data is not a tensor');
  data.isParameter = true;
  data.requiresGrad = requiresGrad === true;
  return data;
}

function rebuildFromType(args: unknown[]): unknown {
  const [func, newType, funcArgs] = args;
  if (!(func instanceof PyGlobal) || !Array.isArray(funcArgs)) throw new Error('malformed tensor subclass');
  const t = func.call(funcArgs);
  if (t instanceof LazyTensor && newType instanceof PyGlobal && newType.qualname === 'torch.nn.parameter.Parameter') t.isParameter = true;
  return t;
}

/** `numpy.dtype` as pickled: `dtype('f8', False, True)` then BUILD with `(3, '<', ...)`. */
class NumpyDType implements Buildable {
  byteOrder = '=';
  constructor(readonly code: string) {}
  setState(state: unknown): void {
    if (Array.isArray(state) && typeof state[1] === 'string') this.byteOrder = state[1];
  }
}

function numpyScalar(args: unknown[]): unknown {
  const [dtype, raw] = args;
  if (!(dtype instanceof NumpyDType) || !(raw instanceof Uint8Array)) throw new Error('malformed numpy scalar');
  const b = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const le = dtype.byteOrder !== '>';
  const size = Number(dtype.code.slice(1));
  if (b.length < size) throw new Error(`numpy scalar of dtype ${dtype.code} has ${b.length} bytes`);
  switch (dtype.code) {
    case 'f8': return le ? b.readDoubleLE(0) : b.readDoubleBE(0);
    case 'f4': return le ? b.readFloatLE(0) : b.readFloatBE(0);
    case 'f2': return halfToFloat(le ? b.readUInt16LE(0) : b.readUInt16BE(0));
    case 'i8': case 'u8': {
      const v = dtype.code === 'i8' ? (le ? b.readBigInt64LE(0) : b.readBigInt64BE(0)) : (le ? b.readBigUInt64LE(0) : b.readBigUInt64BE(0));
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    }
    case 'i4': return le ? b.readInt32LE(0) : b.readInt32BE(0);
    case 'u4': return le ? b.readUInt32LE(0) : b.readUInt32BE(0);
    case 'i2': return le ? b.readInt16LE(0) : b.readInt16BE(0);
    case 'u2': return le ? b.readUInt16LE(0) : b.readUInt16BE(0);
    case 'i1': return b.readInt8(0);
    case 'u1': return b.readUInt8(0);
    case 'b1': return b[0] !== 0;
    default: throw new Error(`numpy scalar of dtype '${dtype.code}' is not supported`);
  }
}

function namespace(qualname: string) {
  return (args: unknown[]) => new PyInstance(qualname, args);
}

type Impl = ((args: unknown[]) => unknown) | null;

/** Allowlisted globals: an implementation, or null for a global that is only referenced. */
const ALLOWED: Record<string, Impl> = {
  'collections.OrderedDict': (args) => {
    const d = new OrderedDict();
    if (Array.isArray(args[0])) for (const kv of args[0]) if (Array.isArray(kv) && kv.length === 2) d.set(kv[0], kv[1]);
    return d;
  },
  'torch._utils._rebuild_tensor': rebuildTensor,
  'torch._utils._rebuild_tensor_v2': rebuildTensor,
  'torch._utils._rebuild_parameter': rebuildParameter,
  'torch._utils._rebuild_parameter_with_state': rebuildParameter,
  'torch._tensor._rebuild_from_type': rebuildFromType,
  'torch._tensor._rebuild_from_type_v2': rebuildFromType,
  'torch.Size': (args) => ints(args[0] ?? [], 'torch.Size'),
  'torch.device': (args) => args.filter((a) => a !== null && a !== undefined).join(':'),
  'torch.Tensor': null,
  'torch.nn.parameter.Parameter': null,
  'argparse.Namespace': namespace('argparse.Namespace'),
  'types.SimpleNamespace': namespace('types.SimpleNamespace'),
  'numpy.dtype': (args) => new NumpyDType(String(args[0])),
  'numpy.core.multiarray.scalar': numpyScalar,
  'numpy._core.multiarray.scalar': numpyScalar,
  '_codecs.encode': (args) => {
    const [s, enc] = args;
    if (typeof s !== 'string' || (enc !== 'latin1' && enc !== 'latin-1')) throw new Error('_codecs.encode is allowed only for latin1 bytes');
    return Uint8Array.from(Buffer.from(s, 'latin1'));
  },
  'builtins.set': (args) => new Set(Array.isArray(args[0]) ? args[0] : []),
  'builtins.frozenset': (args) => new Set(Array.isArray(args[0]) ? args[0] : []),
  'builtins.bytearray': (args) => (args[0] instanceof Uint8Array ? args[0] : new Uint8Array(0)),
  'builtins.object': null,
  'copyreg._reconstructor': reconstructor,
};

/** Protocol 0/1 instances: `_reconstructor(cls, object, None)` then BUILD. */
function reconstructor(args: unknown[]): unknown {
  const [cls, base] = args;
  if (!(cls instanceof PyGlobal) || !cls.callable || !(base instanceof PyGlobal) || base.qualname !== 'builtins.object') {
    throw new Error('copyreg._reconstructor is allowed only for plain classes');
  }
  return cls.call([]);
}

export interface GlobalResolver {
  resolve(module: string, name: string): PyGlobal;
  /** Unknown globals kept as placeholders, in first-seen order. */
  placeholders: string[];
}

export function makeGlobalResolver(allowUnknownGlobals: boolean): GlobalResolver {
  const cache = new Map<string, PyGlobal>();
  const placeholders: string[] = [];
  const create = (pickled: string, name: string): PyGlobal => {
    const module = PY2_MODULES[pickled] ?? pickled;
    const qualname = `${module}.${name}`;
    if (Object.hasOwn(ALLOWED, qualname)) return new PyGlobal(module, name, ALLOWED[qualname] ?? undefined);
    if (module === 'torch') {
      const storage = STORAGE_TYPES.get(name);
      if (storage) return new StorageClass(storage);
      if (TORCH_DTYPES.has(name)) return new PyGlobal(module, name);
    }
    if (module === 'torch._utils' && Object.hasOwn(UNSUPPORTED_REBUILDS, name)) {
      const unsupported = new UnsupportedTensor(`${UNSUPPORTED_REBUILDS[name]} (torch._utils.${name})`);
      return new PyGlobal(module, name, () => unsupported);
    }
    if (isDangerous(module, name)) throw new RefusedGlobalError(qualname, true);
    if (!allowUnknownGlobals) throw new RefusedGlobalError(qualname, false);
    placeholders.push(qualname);
    return new PyGlobal(module, name, (args) => new PyInstance(qualname, args, true));
  };
  return {
    placeholders,
    resolve(module, name) {
      const key = `${module}\n${name}`;
      let g = cache.get(key);
      if (!g) cache.set(key, (g = create(module, name)));
      return g;
    },
  };
}
