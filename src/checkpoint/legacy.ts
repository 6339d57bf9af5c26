// The legacy container (torch.save before PyTorch 1.6, or `_use_new_zipfile_serialization=False`):
// five pickles in a row (magic number, protocol version, sys info, the object, the storage keys),
// then each storage's raw bytes as an int64 element count followed by the elements.
import { InputError } from '../errors.js';
import { StorageClass } from './globals.js';
import { unpickle, type UnpickleHooks } from './pickle.js';
import { PyGlobal } from './pyobjects.js';
import type { Storage } from './storage.js';

const MAGIC = 0x1950a86a20f9469cfc6cn;
const PROTOCOL_VERSION = 1001;

export interface LegacyCheckpoint {
  object: unknown;
  protocol: number;
  /** Storage keys, in file order. */
  records: string[];
}

interface View { storage: Storage; root: string; offset: number }

/** `mayModify`: the caller hands over `buf`, which may then be rearranged in place. */
export function readLegacyCheckpoint(buf: Buffer, file: string, resolveGlobal: UnpickleHooks['resolveGlobal'], mayModify: boolean): LegacyCheckpoint {
  const fail = (msg: string): never => {
    throw new InputError(msg, file);
  };
  const noPersistent = (): never => fail('unexpected persistent id before the checkpoint object');
  const header = { resolveGlobal, persistentLoad: noPersistent };

  const magic = unpickle(buf, 0, header);
  if (magic.value !== MAGIC) fail('is a pickle but not a PyTorch checkpoint (no torch magic number)');
  const version = unpickle(buf, magic.end, header);
  if (version.value !== PROTOCOL_VERSION) fail(`unsupported legacy checkpoint version ${String(version.value)}`);
  const sysInfo = unpickle(buf, version.end, header);
  const littleEndian = sysInfo.value instanceof Map ? sysInfo.value.get('little_endian') !== false : true;

  const roots = new Map<string, Storage>();
  const views: View[] = [];
  const persistentLoad = (pid: unknown): unknown => {
    if (!Array.isArray(pid)) return fail('malformed persistent id');
    // `torch.save(model)`: each nn.Module class as ('module', class, source file, source text). The
    // class (an inert placeholder) is what the pickle instantiates; the source is never used.
    if (pid[0] === 'module') return pid[1] instanceof PyGlobal ? pid[1] : fail('malformed module persistent id');
    const [kind, cls, key, , numel, view] = pid as unknown[];
    if (kind !== 'storage' || !(cls instanceof StorageClass) || typeof key !== 'string'
      || typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) {
      return fail('malformed storage persistent id');
    }
    let root = roots.get(key);
    if (!root) roots.set(key, (root = { type: cls.type, key, numel, bigEndian: !littleEndian }));
    if (view === null || view === undefined) return root;
    const [viewKey, offset, size] = Array.isArray(view) ? view : [];
    if (typeof viewKey !== 'string' || !Number.isSafeInteger(offset) || !Number.isSafeInteger(size) || offset < 0 || size < 0) {
      return fail('malformed storage view');
    }
    const storage: Storage = { type: cls.type, key: `${key}[${offset}:${offset + size}]`, numel: size, bigEndian: !littleEndian };
    views.push({ storage, root: key, offset });
    return storage;
  };
  const main = unpickle(buf, sysInfo.end, { resolveGlobal, persistentLoad });
  const keysPickle = unpickle(buf, main.end, header);
  const keys = keysPickle.value;
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) fail('storage key list is malformed');

  let pos = keysPickle.end;
  // Storage data follows 8-byte counts, so it is rarely aligned for typed arrays. When the buffer is
  // ours, each storage is moved left onto an 8-byte boundary (over the counts already read; it never
  // overtakes the next storage), so tensors can view it without copying.
  let write = pos;
  for (const key of keys as string[]) {
    const storage = roots.get(key);
    if (!storage) return fail(`storage '${key}' is listed but no tensor uses it`);
    if (pos + 8 > buf.length) fail(`truncated: storage '${key}' is missing`);
    const count = littleEndian ? buf.readBigInt64LE(pos) : buf.readBigInt64BE(pos);
    pos += 8;
    const size = storage.type.elementSize;
    if (count !== BigInt(storage.numel)) fail(`storage '${key}' holds ${count} elements but the pickle says ${storage.numel}`);
    const nbytes = storage.numel * size;
    if (pos + nbytes > buf.length) fail(`truncated: storage '${key}' needs ${nbytes} bytes, ${buf.length - pos} left`);
    let start = pos;
    if (mayModify) {
      start = write + ((8 - ((buf.byteOffset + write) % 8)) % 8);
      buf.copyWithin(start, pos, pos + nbytes);
      write = start + nbytes;
    }
    storage.bytes = buf.subarray(start, start + nbytes);
    pos += nbytes;
  }
  for (const [key, s] of roots) if (!s.bytes) fail(`storage '${key}' is used but missing from the storage list`);
  for (const v of views) {
    const root = roots.get(v.root)!;
    const size = root.type.elementSize;
    if (v.offset + v.storage.numel > root.numel) fail(`storage view '${v.storage.key}' exceeds its storage (${root.numel} elements)`);
    v.storage.bytes = root.bytes!.subarray(v.offset * size, (v.offset + v.storage.numel) * size);
  }
  return { object: main.value, protocol: main.protocol, records: keys as string[] };
}
