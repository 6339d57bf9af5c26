// A minimal zip reader for torch.save archives: the central directory (with zip64), and each record's
// bytes as a zero-copy slice when stored (torch stores records uncompressed) or inflated otherwise.
//
// Why not adm-zip (the dependency first chosen for this): it builds a heavyweight object per entry
// and copies and CRCs every record it returns. Indexing mobilenet_v3_large's 314 records took ~35 ms
// and importing it ~60-90 ms CPU, more than torch.load's whole 27 ms CPU load of that file.
import { crc32, inflateRawSync } from 'node:zlib';

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

/** Lists the records of the zip archive in `buf` (central-directory order). */
export function readZipDirectory(buf: Buffer): ZipRecord[] {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === EOCD) { eocd = i; break; }
  }
  check(eocd >= 0, 'no end-of-central-directory record (truncated?)');
  let count = buf.readUInt16LE(eocd + 10);
  let size = buf.readUInt32LE(eocd + 12);
  let offset = buf.readUInt32LE(eocd + 16);
  if (eocd >= 20 && buf.readUInt32LE(eocd - 20) === ZIP64_LOCATOR) {
    const at = u64(buf, eocd - 12);
    check(at + 56 <= buf.length && buf.readUInt32LE(at) === ZIP64_EOCD, 'bad zip64 end-of-central-directory record');
    count = u64(buf, at + 32);
    size = u64(buf, at + 40);
    offset = u64(buf, at + 48);
  }
  check(offset + size <= buf.length && count * 46 <= size, 'central directory lies outside the file (truncated?)');
  const records: ZipRecord[] = [];
  let p = offset;
  for (let i = 0; i < count; i++) {
    check(p + 46 <= offset + size && buf.readUInt32LE(p) === CENTRAL, 'corrupted central directory');
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const end = p + 46 + nameLen + extraLen + buf.readUInt16LE(p + 32);
    check(end <= offset + size, 'corrupted central directory');
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
          check(q + 8 <= e + 4 + len, 'corrupted zip64 extra field');
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

/** A record's bytes: a view into `buf` when stored, else inflated. `verify` also checks the CRC. */
export function recordData(buf: Buffer, rec: ZipRecord, verify: boolean): Buffer {
  const at = rec.localHeaderOffset;
  check(at + 30 <= buf.length && buf.readUInt32LE(at) === LOCAL, `record '${rec.name}' has a bad local header`);
  const start = at + 30 + buf.readUInt16LE(at + 26) + buf.readUInt16LE(at + 28);
  check(start + rec.compressedSize <= buf.length, `record '${rec.name}' is truncated`);
  const raw = buf.subarray(start, start + rec.compressedSize);
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
  if (verify) check(crc32(data) === rec.crc, `record '${rec.name}' fails its CRC check (corrupted)`);
  return data;
}
