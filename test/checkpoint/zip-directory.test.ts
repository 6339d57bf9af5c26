// The zip reader on zip64 fields that small fixtures never need: 0xffffffff sizes and offset in the
// central directory with a zip64 extra field, and a zip64 end-of-central-directory record.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import { bufferSource } from '../../src/checkpoint/byte-source.js';
import { readZipDirectory, recordData, ZipError } from '../../src/checkpoint/zip-directory.js';

function u16(n: number): Buffer { const b = Buffer.alloc(2); b.writeUInt16LE(n); return b; }
function u32(n: number): Buffer { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; }
function u64(n: number): Buffer { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); return b; }

/** One stored record whose sizes and offset live only in zip64 fields. */
function zip64Archive(name: string, data: Buffer): Buffer {
  const nameBytes = Buffer.from(name);
  const crc = crc32(data);
  const MAX = 0xffffffff;
  const local = Buffer.concat([u32(0x04034b50), u16(45), u16(0), u16(0), u32(0), u32(crc), u32(MAX), u32(MAX),
    u16(nameBytes.length), u16(20), nameBytes, u16(1), u16(16), u64(data.length), u64(data.length), data]);
  const central = Buffer.concat([u32(0x02014b50), u16(45), u16(45), u16(0), u16(0), u32(0), u32(crc), u32(MAX), u32(MAX),
    u16(nameBytes.length), u16(28), u16(0), u16(0), u16(0), u32(0), u32(MAX), nameBytes,
    u16(1), u16(24), u64(data.length), u64(data.length), u64(0)]);
  const cdOffset = local.length;
  const zip64Eocd = Buffer.concat([u32(0x06064b50), u64(44), u16(45), u16(45), u32(0), u32(0), u64(1), u64(1),
    u64(central.length), u64(cdOffset)]);
  const locator = Buffer.concat([u32(0x07064b50), u32(0), u64(cdOffset + central.length), u32(1)]);
  const eocd = Buffer.concat([u32(0x06054b50), u16(0), u16(0), u16(0xffff), u16(0xffff), u32(MAX), u32(MAX), u16(0)]);
  return Buffer.concat([local, central, zip64Eocd, locator, eocd]);
}

test('zip64 sizes, offsets and end record are followed', () => {
  const zip = bufferSource(zip64Archive('x/data.pkl', Buffer.from('hello')));
  const [rec] = readZipDirectory(zip);
  assert.deepEqual({ ...rec, crc: 0 }, { name: 'x/data.pkl', method: 0, crc: 0, compressedSize: 5, size: 5, localHeaderOffset: 0 });
  assert.equal(recordData(zip, rec, true).toString(), 'hello');
});

test('a flipped data byte fails the CRC; a cut central directory is reported', () => {
  const zip = zip64Archive('x/data.pkl', Buffer.from('hello'));
  const bad = Buffer.from(zip);
  bad[zip.indexOf('hello')] = 0x48;
  const src = bufferSource(bad);
  assert.throws(() => recordData(src, readZipDirectory(src)[0], true),
    new ZipError("record 'x/data.pkl' fails its CRC-32 check (corrupted; --no-verify skips the check)"));
  assert.equal(recordData(src, readZipDirectory(src)[0], false).toString(), 'Hello');
  assert.throws(() => readZipDirectory(bufferSource(zip.subarray(0, zip.length - 30))), new ZipError('no end-of-central-directory record (truncated?)'));
});
