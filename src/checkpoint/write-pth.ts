// Writes a checkpoint in the zip layout torch.save uses since PyTorch 1.6: `<name>/data.pkl`
// (pickle protocol 2), `<name>/byteorder`, one record `<name>/data/<key>` per storage and
// `<name>/version`. Records are stored uncompressed and their data starts on a 64-byte boundary,
// padded through a local extra field ('FB' + 'Z' bytes) exactly as torch's writer does, so torch can
// map them in place. Storages are produced one at a time and streamed out, never all held at once:
// each record's header goes out with a zero CRC-32, patched once the data has passed through.
import { crc32 } from 'node:zlib';
import { InputError } from '../errors.js';
import { byteLengthOf, writeTensorBytes, type OutTensor } from './out-tensor.js';
import { pickle, PyOrderedDict, type PickleValue } from './pickle-writer.js';
import { writeFileStreamed, type FileSink } from './write-file.js';

const ALIGNMENT = 64;
const LOCAL_HEADER = 30;
/** 1980-01-01, the earliest DOS date (torch writes no real time either). */
const DOS_DATE = (1 << 5) | 1;
const ZIP32_LIMIT = 0xffffffff;
const CACHED = 1 << 20;

interface Written {
  name: Buffer;
  crc: number;
  size: number;
  offset: number;
}

/** Writes one stored record of `size` bytes, which `fill` hands over in pieces. */
function record(sink: FileSink, name: string, size: number, fill: (write: (piece: Uint8Array) => void) => void, out: Written[]): void {
  const nameBytes = Buffer.from(name, 'utf8');
  const offset = sink.offset;
  const start = offset + LOCAL_HEADER + nameBytes.length + 4;
  const padding = (ALIGNMENT - (start % ALIGNMENT)) % ALIGNMENT;
  if (offset + LOCAL_HEADER + nameBytes.length + 4 + padding + size > ZIP32_LIMIT) {
    throw new InputError('the checkpoint would exceed 4 GiB, which needs zip64 (not written by torchport)');
  }
  const h = Buffer.alloc(LOCAL_HEADER + nameBytes.length + 4 + padding, 'Z');
  h.writeUInt32LE(0x04034b50, 0);
  h.writeUInt16LE(20, 4); // version needed
  h.writeUInt16LE(0, 6); // flags
  h.writeUInt16LE(0, 8); // stored
  h.writeUInt16LE(0, 10); // time
  h.writeUInt16LE(DOS_DATE, 12);
  h.writeUInt32LE(0, 14); // CRC-32, patched below
  h.writeUInt32LE(size, 18);
  h.writeUInt32LE(size, 22);
  h.writeUInt16LE(nameBytes.length, 26);
  h.writeUInt16LE(4 + padding, 28);
  nameBytes.copy(h, LOCAL_HEADER);
  h.write('FB', LOCAL_HEADER + nameBytes.length, 'latin1');
  h.writeUInt16LE(padding, LOCAL_HEADER + nameBytes.length + 2);
  sink.write(h);
  let crc = 0;
  fill((piece) => {
    // 1 MB at a time: the write copies what the checksum has just brought into the cache.
    for (let at = 0; at < piece.length; at += CACHED) {
      const part = piece.subarray(at, at + CACHED);
      crc = crc32(part, crc);
      sink.write(part);
    }
  });
  const crcBytes = Buffer.alloc(4);
  crcBytes.writeUInt32LE(crc);
  sink.patch(offset + 14, crcBytes);
  out.push({ name: nameBytes, crc, size, offset });
}

/** A record holding `bytes`. */
function smallRecord(sink: FileSink, name: string, bytes: Uint8Array, out: Written[]): void {
  record(sink, name, bytes.length, (write) => write(bytes), out);
}

function centralDirectory(sink: FileSink, written: Written[]): void {
  const start = sink.offset;
  for (const w of written) {
    const h = Buffer.alloc(46);
    h.writeUInt32LE(0x02014b50, 0);
    h.writeUInt16LE(20, 4); // made by
    h.writeUInt16LE(20, 6); // needed
    h.writeUInt16LE(0, 8);
    h.writeUInt16LE(0, 10);
    h.writeUInt16LE(0, 12);
    h.writeUInt16LE(DOS_DATE, 14);
    h.writeUInt32LE(w.crc, 16);
    h.writeUInt32LE(w.size, 20);
    h.writeUInt32LE(w.size, 24);
    h.writeUInt16LE(w.name.length, 28);
    h.writeUInt32LE(w.offset, 42);
    sink.write(h);
    sink.write(w.name);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(written.length, 8);
  end.writeUInt16LE(written.length, 10);
  end.writeUInt32LE(sink.offset - start, 12);
  end.writeUInt32LE(start, 16);
  if (written.length > 0xffff) throw new InputError('the checkpoint would hold more than 65535 records, which needs zip64 (not written by torchport)');
  sink.write(end);
}

/** torch names the archive folder after the file (letters, digits and '_'), else `archive`. */
export function archiveName(path: string): string {
  const stem = (path.split(/[\\/]/).pop() ?? '').replace(/\.[^.]*$/, '');
  return /^[A-Za-z0-9_]+$/.test(stem) ? stem : 'archive';
}

/**
 * Writes `root` (whose tensors reference `storages` by key) as a torch.save zip checkpoint at
 * `path`, atomically.
 */
export function writePth(path: string, root: PickleValue, storages: Array<{ key: string; tensor: OutTensor }>): void {
  const name = archiveName(path);
  writeFileStreamed(path, (sink) => {
    const written: Written[] = [];
    smallRecord(sink, `${name}/data.pkl`, pickle(root), written);
    smallRecord(sink, `${name}/byteorder`, Buffer.from('little', 'latin1'), written);
    for (const s of storages) record(sink, `${name}/data/${s.key}`, byteLengthOf(s.tensor), (write) => writeTensorBytes(s.tensor, write), written);
    smallRecord(sink, `${name}/version`, Buffer.from('3\n', 'latin1'), written);
    centralDirectory(sink, written);
  });
}

export interface StateDictPthOptions {
  /** Nest the state dict under this key of a plain top-level dict (mmdetection: 'state_dict'). */
  wrapKey?: string;
  /** Entries written before the state dict in that top-level dict (e.g. `meta`). */
  extra?: Array<[string, PickleValue]>;
  /** The state dict's `_metadata` (module prefix → e.g. {version: 2}). */
  metadata?: Array<[string, Record<string, number | string>]>;
}

/** Writes `tensors` as an OrderedDict state dict, like `torch.save(model.state_dict(), path)`. */
export function writeStateDictPth(path: string, tensors: OutTensor[], opts: StateDictPthOptions = {}): void {
  const entries: Array<[string, PickleValue]> = tensors.map((t, i) => [t.key, { kind: 'tensor', storageKey: String(i), dtype: t.dtype, shape: t.shape }]);
  const stateDict = new PyOrderedDict(entries, opts.metadata);
  const root: PickleValue = opts.wrapKey === undefined ? stateDict : new Map([...(opts.extra ?? []), [opts.wrapKey, stateDict]]);
  writePth(path, root, tensors.map((tensor, i) => ({ key: String(i), tensor })));
}
