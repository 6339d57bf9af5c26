// The unpickler's globals, modeled on torch's `_weights_only_unpickler`: the globals a checkpoint
// references, each mapped to torchport's own inert stand-in. Globals that can run code are always
// refused. Any other class or function is kept as an inert placeholder that records its arguments and
// state (with a warning naming it), or refused under `strict`. Nothing named by a file is ever
// imported or executed, so a placeholder is harmless.
import { DataError, OrderedDict, PyGlobal, PyInstance } from './pyobjects.js';
import { NumpyDType, numpyScalar, reconstructArray } from './numpy-objects.js';
import { LazyTensor, STORAGE_TYPES, UnsupportedTensor, type QuantParams, type Storage, type StorageType } from './storage.js';

/** A global the file may not use; `dangerous` when it can run code. */
export class RefusedGlobalError extends Error {
  constructor(readonly qualname: string, readonly dangerous: boolean) {
    super(dangerous
      ? `refusing to read: it references '${qualname}', which can run code; this is not a plain checkpoint (nothing from it was executed)`
      : `refusing to read under --strict: it references '${qualname}', which is not a plain checkpoint type; without --strict it is kept as an inert placeholder (nothing from it is run)`);
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

/** torch's own module classes: expected in whole pickled models, kept as inert instances without a warning. */
const TORCH_MODULE_PREFIXES = ['torch.nn.modules.', 'torch.nn.parallel.', 'torchvision.models.', 'torchvision.ops.'];

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
  // quantization schemes, referenced by quantized tensors
  'per_tensor_affine', 'per_channel_affine', 'per_tensor_symmetric', 'per_channel_symmetric',
  'per_channel_affine_float_qparams',
]);

/** Python 2 module names that protocol 0-2 pickles use (Python's fix_imports maps them back). */
const PY2_MODULES: Record<string, string> = {
  __builtin__: 'builtins', exceptions: 'builtins', copy_reg: 'copyreg', commands: 'subprocess', cPickle: 'pickle',
  UserDict: 'collections', UserList: 'collections', thread: '_thread', Queue: 'queue', urllib2: 'urllib.request',
};

/** Python 2 names that Python 3 pickles with protocol 0-2 (Python's fix_imports maps them back). */
const PY2_NAMES: Record<string, [string, string]> = {
  '__builtin__.xrange': ['builtins', 'range'],
  '__builtin__.unicode': ['builtins', 'str'],
  '__builtin__.long': ['builtins', 'int'],
  '__builtin__.reduce': ['functools', 'reduce'],
  '__builtin__.intern': ['sys', 'intern'],
  'UserDict.UserDict': ['collections', 'UserDict'],
  'UserList.UserList': ['collections', 'UserList'],
};

/** Tensor kinds a checkpoint may hold but torchport does not read; reaching one is an error naming it. */
const UNSUPPORTED_REBUILDS: Record<string, string> = {
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
  if (typeof x !== 'number' || !Number.isSafeInteger(x)) throw new DataError(`${what} is not an integer`);
  return x;
}

function ints(x: unknown, what: string): number[] {
  if (!Array.isArray(x)) throw new DataError(`${what} is not a tuple`);
  return x.map((v, i) => int(v, `${what}[${i}]`));
}

function rebuildTensor(args: unknown[]): LazyTensor | UnsupportedTensor {
  const [storage, offset, size, stride, requiresGrad] = args;
  if (storage instanceof UnsupportedTensor) return storage;
  if (!(storage instanceof Object) || !('type' in storage) || !('numel' in storage)) throw new DataError('first argument is not a storage');
  const t = new LazyTensor(storage as Storage, int(offset, 'storage offset'), ints(size, 'size'), ints(stride, 'stride'));
  if (t.shape.length !== t.stride.length) throw new DataError(`size has ${t.shape.length} dims but stride has ${t.stride.length}`);
  t.requiresGrad = requiresGrad === true;
  return t;
}

function rebuildParameter(args: unknown[]): LazyTensor | UnsupportedTensor {
  const [data, requiresGrad] = args;
  if (data instanceof UnsupportedTensor) return data;
  if (!(data instanceof LazyTensor)) throw new DataError('parameter data is not a tensor');
  data.isParameter = true;
  data.requiresGrad = requiresGrad === true;
  return data;
}

function rebuildFromType(args: unknown[]): unknown {
  const [func, newType, funcArgs] = args;
  if (!(func instanceof PyGlobal) || !Array.isArray(funcArgs)) throw new DataError('malformed tensor subclass');
  const t = func.call(funcArgs);
  if (t instanceof LazyTensor && newType instanceof PyGlobal && newType.qualname === 'torch.nn.parameter.Parameter') t.isParameter = true;
  return t;
}

/** `_rebuild_qtensor(storage, offset, size, stride, quantizer_params, requires_grad, hooks)`. */
function rebuildQTensor(args: unknown[]): LazyTensor | UnsupportedTensor {
  const [storage, offset, size, stride, params, requiresGrad] = args;
  if (storage instanceof UnsupportedTensor) return storage;
  const t = rebuildTensor([storage, offset, size, stride, requiresGrad]) as LazyTensor;
  if (!t.storage.type.quantized) throw new DataError(`a quantized tensor on a ${t.storage.type.name}`);
  if (!Array.isArray(params) || !(params[0] instanceof PyGlobal)) throw new DataError('quantizer parameters are malformed');
  const scheme = params[0].name;
  let quant: QuantParams;
  if (scheme === 'per_tensor_affine') {
    const [, scale, zeroPoint] = params;
    if (typeof scale !== 'number') throw new DataError('quantizer scale is not a number');
    quant = { scheme, scale, zeroPoint: int(zeroPoint, 'quantizer zero point') };
  } else if (scheme === 'per_channel_affine') {
    const [, scales, zeroPoints, axis] = params;
    if (!(scales instanceof LazyTensor) || !(zeroPoints instanceof LazyTensor)) throw new DataError('per-channel scales or zero points are not tensors');
    quant = { scheme, scales, zeroPoints, axis: int(axis, 'quantizer axis') };
  } else {
    return new UnsupportedTensor(`a quantized tensor with scheme ${scheme}`);
  }
  t.quant = quant;
  return t;
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
  'torch._utils._rebuild_qtensor': rebuildQTensor,
  'argparse.Namespace': namespace('argparse.Namespace'),
  'types.SimpleNamespace': namespace('types.SimpleNamespace'),
  'numpy.dtype': (args) => new NumpyDType(String(args[0])),
  'numpy.ndarray': null,
  'numpy.core.multiarray._reconstruct': reconstructArray,
  'numpy._core.multiarray._reconstruct': reconstructArray,
  'numpy.core.multiarray.scalar': numpyScalar,
  'numpy._core.multiarray.scalar': numpyScalar,
  '_codecs.encode': (args) => latin1(args, '_codecs.encode'),
  'builtins.dict': (args) => new Map(pairs(args[0])),
  'builtins.list': (args) => (args.length ? [...iterable(args[0])] : []),
  'builtins.tuple': (args) => (args.length ? [...iterable(args[0])] : []),
  'builtins.set': (args) => new Set(args.length ? iterable(args[0]) : []),
  'builtins.frozenset': (args) => new Set(args.length ? iterable(args[0]) : []),
  'builtins.bytearray': (args) => (args.length === 0 ? new Uint8Array(0) : args[0] instanceof Uint8Array ? args[0] : latin1(args, 'bytearray')),
  'builtins.bytes': (args) => (args.length === 0 ? new Uint8Array(0) : Uint8Array.from(iterable(args[0]) as number[])),
  'builtins.slice': namespace('builtins.slice'),
  'builtins.range': namespace('builtins.range'),
  'builtins.complex': namespace('builtins.complex'),
  'builtins.object': null,
  'builtins.int': null,
  'builtins.float': null,
  'builtins.str': null,
  'builtins.bool': null,
  'collections.defaultdict': () => new Map(),
  'collections.Counter': (args) => new Map(args.length && args[0] instanceof Map ? args[0] : []),
  'collections.deque': (args) => (args.length ? [...iterable(args[0])] : []),
  'copyreg._reconstructor': reconstructor,
};

/** `_codecs.encode(str, 'latin1')`: how protocols 0-2 pickle bytes. */
function latin1(args: unknown[], what: string): Uint8Array {
  const [s, enc] = args;
  if (typeof s !== 'string' || (enc !== 'latin1' && enc !== 'latin-1')) throw new DataError(`${what} is allowed only for latin1 bytes`);
  return Uint8Array.from(Buffer.from(s, 'latin1'));
}

function iterable(x: unknown): Iterable<unknown> {
  if (Array.isArray(x) || x instanceof Set || x instanceof Map) return x instanceof Map ? x.keys() : x;
  throw new DataError('argument is not a list, tuple, set or dict');
}

/** dict(x): a dict's entries or a list of pairs. */
function pairs(x: unknown): Iterable<[unknown, unknown]> {
  if (x === undefined) return [];
  if (x instanceof Map) return x;
  const out: Array<[unknown, unknown]> = [];
  for (const kv of iterable(x)) {
    if (!Array.isArray(kv) || kv.length !== 2) throw new DataError('dict() item is not a pair');
    out.push([kv[0], kv[1]]);
  }
  return out;
}

/** Protocol 0/1 instances: `_reconstructor(cls, object, None)` then BUILD. */
function reconstructor(args: unknown[]): unknown {
  const [cls, base] = args;
  if (!(cls instanceof PyGlobal) || !cls.callable || !(base instanceof PyGlobal) || base.qualname !== 'builtins.object') {
    throw new DataError('copyreg._reconstructor is allowed only for plain classes');
  }
  return cls.call([]);
}

export interface GlobalResolver {
  resolve(module: string, name: string): PyGlobal;
  /** Unknown globals kept as placeholders, in first-seen order. */
  placeholders: string[];
  /** Whether a tensor rebuild function was resolved: without one the file holds no tensors. */
  readonly rebuildsTensors: boolean;
}

/** `strict`: refuse every global outside the allowlist instead of keeping it as a placeholder. */
export function makeGlobalResolver(strict: boolean): GlobalResolver {
  const cache = new Map<string, PyGlobal>();
  const placeholders: string[] = [];
  let rebuildsTensors = false;
  const create = (pickledModule: string, pickledName: string): PyGlobal => {
    const [module, name] = PY2_NAMES[`${pickledModule}.${pickledName}`] ?? [PY2_MODULES[pickledModule] ?? pickledModule, pickledName];
    const qualname = `${module}.${name}`;
    if (/^torch\._(utils|tensor)\._rebuild/.test(qualname)) rebuildsTensors = true;
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
    if (strict) throw new RefusedGlobalError(qualname, false);
    if (!TORCH_MODULE_PREFIXES.some((p) => qualname.startsWith(p))) placeholders.push(qualname);
    return new PyGlobal(module, name, (args) => new PyInstance(qualname, args, true));
  };
  return {
    placeholders,
    get rebuildsTensors() {
      return rebuildsTensors;
    },
    resolve(module, name) {
      const key = `${module}\n${name}`;
      let g = cache.get(key);
      if (!g) cache.set(key, (g = create(module, name)));
      return g;
    },
  };
}
