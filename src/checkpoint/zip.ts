// The zip container torch.save writes since PyTorch 1.6: `<folder>/data.pkl`, one record
// `<folder>/data/<key>` per storage, `<folder>/byteorder`, `<folder>/version`. Storage records are
// stored uncompressed, so their bytes are sliced from the file buffer without copying.
import AdmZip from 'adm-zip';
import { InputError } from '../errors.js';
import { StorageClass } from './globals.js';
import type { Storage } from './storage.js';

export interface ZipCheckpoint {
  pickle: Buffer;
  pickleName: string;
  records: string[];
  /** Resolves a storage persistent id `('storage', torch.XStorage, key, location, numel)`. */
  persistentLoad(pid: unknown): Storage;
}

const LOCAL_HEADER_SIGNATURE = 0x04034b50;

export function openZipCheckpoint(buf: Buffer, file: string): ZipCheckpoint {
  const fail = (msg: string): never => {
    throw new InputError(msg, file);
  };
  let entries: AdmZip.IZipEntry[] = [];
  try {
    entries = new AdmZip(buf).getEntries();
  } catch (err) {
    fail(`not a readable zip archive (${(err as Error).message}); the file may be truncated`);
  }
  const byName = new Map(entries.map((e) => [e.entryName, e]));
  const records = entries.map((e) => e.entryName);
  const pkls = records.filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkls.length !== 1) {
    fail(pkls.length === 0
      ? 'zip archive has no <folder>/data.pkl record: not a torch.save checkpoint'
      : `zip archive has several data.pkl records (${pkls.join(', ')})`);
  }
  const prefix = pkls[0].slice(0, -'data.pkl'.length);
  if (byName.has(`${prefix}constants.pkl`) || records.some((n) => n.startsWith(`${prefix}code/`))) {
    fail('is a TorchScript archive (torch.jit.save), not a torch.save checkpoint; save model.state_dict() with torch.save');
  }
  const data = (name: string): Buffer => {
    try {
      return byName.get(name)!.getData();
    } catch (err) {
      return fail(`zip record '${name}' is unreadable (${(err as Error).message})`);
    }
  };
  const byteorderEntry = byName.get(`${prefix}byteorder`);
  const byteorder = byteorderEntry ? data(byteorderEntry.entryName).toString('latin1').trim() : 'little';
  if (byteorder !== 'little' && byteorder !== 'big') fail(`unknown byteorder '${byteorder}' in ${prefix}byteorder`);

  /** The bytes of a record: a zero-copy slice when stored, else inflated (and CRC-checked). */
  const recordBytes = (name: string): Uint8Array => {
    const entry = byName.get(name);
    if (!entry) {
      return fail(`storage record '${name}' is missing from the zip archive`);
    }
    if (entry.header.method !== 0) return data(name);
    const at = entry.header.offset;
    if (at + 30 > buf.length || buf.readUInt32LE(at) !== LOCAL_HEADER_SIGNATURE) fail(`zip record '${name}' has a bad local header`);
    const start = at + 30 + buf.readUInt16LE(at + 26) + buf.readUInt16LE(at + 28);
    const size = entry.header.compressedSize;
    if (start + size > buf.length) fail(`zip record '${name}' is truncated`);
    return buf.subarray(start, start + size);
  };

  const storages = new Map<string, Storage>();
  return {
    pickle: data(pkls[0]),
    pickleName: pkls[0],
    records,
    persistentLoad(pid) {
      if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) fail(`unexpected persistent id in ${pkls[0]}`);
      const [, cls, key, , numel] = pid as unknown[];
      if (!(cls instanceof StorageClass)) return fail(`persistent id names no storage type`);
      if (typeof key !== 'string' || typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) {
        return fail('malformed storage persistent id');
      }
      const name = `${prefix}data/${key}`;
      const cached = storages.get(name);
      if (cached) return cached;
      const bytes = recordBytes(name);
      const need = numel * cls.type.elementSize;
      if (bytes.length < need) {
        fail(`storage record '${name}' holds ${bytes.length} bytes but its ${numel} ${cls.type.dtype ?? cls.type.unsupported} elements need ${need}`);
      }
      const storage: Storage = { type: cls.type, key: name, numel, bytes, bigEndian: byteorder === 'big' };
      storages.set(name, storage);
      return storage;
    },
  };
}
