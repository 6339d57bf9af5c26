// A minimal zip reader for torch.save archives: the central directory (with zip64), and each record's
// bytes when asked for: a zero-copy slice of an in-memory archive, or one read through the file
// (so archives over 2 GiB never need to fit in one buffer); inflated when deflated.
//
// Why not adm-zip (the dependency first chosen for this): it builds a heavyweight object per entry
// and copies and CRCs every record it returns. Indexing mobilenet_v3_large's 314 records took ~35 ms
// and importing it ~60-90 ms CPU, more than torch.load's whole 27 ms CPU load of that file.
import { crc32, inflateRawSync } from 'node:zlib';
import type { ByteSource } from './byte-source.js';

export interface ZipRecord {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

/** A malformed archive; the message says what is wrong. */
export class ZipError extends Error {}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX32 = 0xffffffff;

function u64(buf: Buffer, at: number): number {
  const v = buf.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipError('zip64 field out of range');
  return Number(v);
}

function check(cond: boolean, msg: string): void {
  if (!cond) throw new ZipError(msg);
}

/** Lists the records of the zip archive in `src` (central-directory order), reading only its end. */
export function readZipDirectory(src: ByteSource): ZipRecord[] {
  const tailStart = Math.max(0, src.size - 22 - 0xffff - 20);
  const tail = src.read(tailStart, src.size - tailStart);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD) { eocd = i; break; }
  }
  check(eocd >= 0, 'no end-of-central-directory record (truncated?)');
  let count = tail.readUInt16LE(eocd + 10);
  let size = tail.readUInt32LE(eocd + 12);
  let offset = tail.readUInt32LE(eocd + 16);
  if (eocd >= 20 && tail.readUInt32LE(eocd - 20) === ZIP64_LOCATOR) {
    const at = u64(tail, eocd - 12);
    check(at + 56 <= src.size, 'bad zip64 end-of-central-directory record');
    const z64 = src.read(at, 56);
    check(z64.readUInt32LE(0) === ZIP64_EOCD, 'bad zip64 end-of-central-directory record');
    count = u64(z64, 32);
    size = u64(z64, 40);
    offset = u64(z64, 48);
  }
  check(offset + size <= src.size && count * 46 <= size, 'central directory lies outside the file (truncated?)');
  const buf = src.read(offset, size);
  const records: ZipRecord[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    check(p + 46 <= size && buf.readUInt32LE(p) === CENTRAL, 'corrupted central directory');
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const end = p + 46 + nameLen + extraLen + buf.readUInt16LE(p + 32);
    check(end <= size, 'corrupted central directory');
    const rec: ZipRecord = {
      name: buf.toString('utf8', p + 46, p + 46 + nameLen),
      method: buf.readUInt16LE(p + 10),
      crc: buf.readUInt32LE(p + 16),
      compressedSize: buf.readUInt32LE(p + 20),
      size: buf.readUInt32LE(p + 24),
      localHeaderOffset: buf.readUInt32LE(p + 42),
    };
    // zip64 extra field (id 1): 64-bit values for whichever of these were 0xffffffff, in this order.
    for (let e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen;) {
      const id = buf.readUInt16LE(e);
      const len = buf.readUInt16LE(e + 2);
      if (id === 1) {
        let q = e + 4;
        for (const field of ['size', 'compressedSize', 'localHeaderOffset'] as const) {
          if (rec[field] !== MAX32) continue;
          check(q + 8 <= e + 4 + len && q + 8 <= size, 'corrupted zip64 extra field');
          rec[field] = u64(buf, q);
          q += 8;
        }
      }
      e += 4 + len;
    }
    records.push(rec);
    p = end;
  }
  return records;
}

/** Where a record's data starts, from its local header. */
export function recordStart(src: ByteSource, rec: ZipRecord): number {
  const at = rec.localHeaderOffset;
  check(at + 30 <= src.size, `record '${rec.name}' has a bad local header`);
  const header = src.read(at, 30);
  check(header.readUInt32LE(0) === LOCAL, `record '${rec.name}' has a bad local header`);
  const start = at + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  check(start + rec.compressedSize <= src.size, `record '${rec.name}' is truncated`);
  return start;
}

/** A record's bytes: a view of an in-memory archive or a fresh read when stored, else inflated.
 * `verify` also checks its CRC-32. */
export function recordData(src: ByteSource, rec: ZipRecord, verify: boolean): Buffer {
  const raw = src.read(recordStart(src, rec), rec.compressedSize);
  let data: Buffer;
  if (rec.method === 0) {
    data = raw;
  } else if (rec.method === 8) {
    try {
      data = inflateRawSync(raw, { maxOutputLength: Math.max(rec.size, 1) });
    } catch (err) {
      throw new ZipError(`record '${rec.name}' does not inflate (${(err as Error).message})`);
    }
  } else {
    throw new ZipError(`record '${rec.name}' uses compression method ${rec.method}, which torchport does not read`);
  }
  check(data.length === rec.size, `record '${rec.name}' holds ${data.length} bytes, its header says ${rec.size}`);
  if (verify) check(crc32(data) === rec.crc, `record '${rec.name}' fails its CRC-32 check (corrupted; --no-verify skips the check)`);
  return data;
}
