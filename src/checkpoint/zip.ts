// The zip container torch.save writes since PyTorch 1.6: `<folder>/data.pkl`, one record
// `<folder>/data/<key>` per storage, `<folder>/byteorder`, `<folder>/version`. Storage records are
// stored uncompressed, so their bytes are sliced from the file buffer without copying.
import { InputError } from '../errors.js';
import { readZipDirectory, recordData, ZipError, type ZipRecord } from './zip-directory.js';
import { StorageClass } from './globals.js';
import type { Storage } from './storage.js';

export interface ZipCheckpoint {
  pickle: Buffer;
  pickleName: string;
  records: string[];
  /** Resolves a storage persistent id `('storage', torch.XStorage, key, location, numel)`. */
  persistentLoad(pid: unknown): Storage;
}

export function openZipCheckpoint(buf: Buffer, file: string): ZipCheckpoint {
  const fail = (msg: string): never => {
    throw new InputError(msg, file);
  };
  let entries: ZipRecord[] = [];
  try {
    entries = readZipDirectory(buf);
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
  /** A record's bytes; `verify` checks its CRC (done for small records: a 22 MB CRC costs ~20 ms). */
  const data = (name: string, verify: boolean): Buffer => {
    const entry = byName.get(name);
    if (!entry) return fail(`storage record '${name}' is missing from the zip archive`);
    try {
      return recordData(buf, entry, verify);
    } catch (err) {
      if (!(err instanceof ZipError)) throw err;
      return fail(`zip ${err.message}`);
    }
  };
  const byteorder = byName.has(`${prefix}byteorder`) ? data(`${prefix}byteorder`, true).toString('latin1').trim() : 'little';
  if (byteorder !== 'little' && byteorder !== 'big') fail(`unknown byteorder '${byteorder}' in ${prefix}byteorder`);

  const storages = new Map<string, Storage>();
  return {
    pickle: data(pkls[0], true),
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
      const bytes = data(name, false);
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
