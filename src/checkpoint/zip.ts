// The zip container torch.save writes since PyTorch 1.6: `<folder>/data.pkl`, one record
// `<folder>/data/<key>` per storage, `<folder>/byteorder` (torch >= 2.1), `<folder>/version`.
// Storage records are stored uncompressed: sliced without copying from an archive in memory, or
// read on first use from a file. Every record's CRC-32 is checked when read, unless `verify` is off.
import { InputError } from '../errors.js';
import type { ByteSource } from './byte-source.js';
import { readZipDirectory, recordData, recordStart, ZipError, type ZipRecord } from './zip-directory.js';
import { StorageClass } from './globals.js';
import type { Storage } from './storage.js';

export interface ZipCheckpoint {
  pickle: Buffer;
  pickleName: string;
  records: string[];
  /** Resolves a storage persistent id `('storage', torch.XStorage, key, location, numel)`. */
  persistentLoad(pid: unknown): Storage;
  /** Reads and checks every record not read yet (those no tensor uses: `version`, unused storages). */
  verifyUnread(): void;
}

export function openZipCheckpoint(src: ByteSource, file: string, verify: boolean): ZipCheckpoint {
  const fail = (msg: string): never => {
    throw new InputError(msg, file);
  };
  let entries: ZipRecord[] = [];
  try {
    entries = readZipDirectory(src);
  } catch (err) {
    if (!(err instanceof ZipError)) throw err;
    fail(`not a readable zip archive: ${err.message}`);
  }
  const byName = new Map(entries.map((e) => [e.name, e]));
  const records = entries.map((e) => e.name);
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
  const zipped = <T>(f: () => T): T => {
    try {
      return f();
    } catch (err) {
      if (!(err instanceof ZipError)) throw err;
      return fail(`zip ${err.message}`);
    }
  };
  const entry = (name: string): ZipRecord => byName.get(name) ?? fail(`storage record '${name}' is missing from the zip archive`);
  /** A record's bytes, its CRC-32 checked (zlib's crc32 runs at several GB/s) unless `verify` is off. */
  const read = new Set<string>();
  const data = (name: string): Buffer => {
    read.add(name);
    return zipped(() => recordData(src, entry(name), verify));
  };
  const byteorder = byName.has(`${prefix}byteorder`) ? data(`${prefix}byteorder`).toString('latin1').trim() : 'little';
  if (byteorder !== 'little' && byteorder !== 'big') fail(`unknown byteorder '${byteorder}' in ${prefix}byteorder`);

  const storages = new Map<string, Storage>();
  return {
    pickle: data(pkls[0]),
    pickleName: pkls[0],
    records,
    verifyUnread() {
      for (const name of records) if (!read.has(name) && !name.endsWith('/')) data(name);
    },
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
      const rec = entry(name);
      const need = numel * cls.type.elementSize;
      if (rec.size < need) {
        fail(`storage record '${name}' holds ${rec.size} bytes but its ${numel} ${cls.type.dtype ?? cls.type.unsupported} elements need ${need}`);
      }
      // Stored records are located now (a bad local header is reported here); their bytes are read on first use.
      if (rec.method === 0) zipped(() => recordStart(src, rec));
      const storage: Storage = { type: cls.type, key: name, numel, load: () => data(name), bigEndian: byteorder === 'big' };
      storages.set(name, storage);
      return storage;
    },
  };
}
