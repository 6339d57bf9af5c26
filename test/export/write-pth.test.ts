// The .pth writer's file layout, record by record, as torch.save writes it since 1.6: the archive
// folder named after the file, data.pkl (pickle protocol 2), byteorder, one stored record per
// storage and version, every record's data on a 64-byte boundary behind torch's 'FB' extra field;
// and a write that fails half-way leaves the previous file as it was and no temporary file.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { crc32 } from 'node:zlib';
import { archiveName, writeStateDictPth } from '../../src/checkpoint/write-pth.js';
import { exportStateDict } from '../../src/export/write.js';
import { convertCheckpoint } from '../../src/models/convert.js';
import { bytesOf, stateDictOf } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'torchport-write-pth-'));
after(() => rmSync(work, { recursive: true, force: true }));

interface LocalRecord { name: string; method: number; dataStart: number; size: number; extra: Buffer; crc: number }

/** The zip's local records in file order, read by walking the local headers. */
function localRecords(buf: Buffer): LocalRecord[] {
  const out: LocalRecord[] = [];
  let at = 0;
  while (buf.readUInt32LE(at) === 0x04034b50) {
    const nameLen = buf.readUInt16LE(at + 26);
    const extraLen = buf.readUInt16LE(at + 28);
    const size = buf.readUInt32LE(at + 18);
    const name = buf.toString('utf8', at + 30, at + 30 + nameLen);
    const dataStart = at + 30 + nameLen + extraLen;
    out.push({ name, method: buf.readUInt16LE(at + 8), dataStart, size, extra: buf.subarray(at + 30 + nameLen, dataStart), crc: buf.readUInt32LE(at + 14) });
    at = dataStart + size;
  }
  return out;
}

test('records, order, alignment and contents follow torch.save', async () => {
  const dir = join(work, 'det');
  assert.ok((await convertCheckpoint(join(ROOT, 'fixtures/fasterrcnn/model.pth'), dir)).written);
  const out = join(work, 'detector_v2.pth');
  exportStateDict(dir, out, { format: 'pth' });
  const buf = readFileSync(out);
  const records = localRecords(buf);
  const n = stateDictOf(out).size;
  assert.deepEqual(records.map((r) => r.name), [
    'detector_v2/data.pkl', 'detector_v2/byteorder', ...Array.from({ length: n }, (_, i) => `detector_v2/data/${i}`), 'detector_v2/version',
  ]);
  for (const r of records) {
    assert.equal(r.method, 0, `${r.name} stored`);
    assert.equal(r.dataStart % 64, 0, `${r.name} aligned`);
    assert.equal(r.extra.toString('latin1', 0, 2), 'FB');
    assert.equal(r.extra.readUInt16LE(2), r.extra.length - 4);
    assert.ok(r.extra.subarray(4).every((b) => b === 0x5a), 'padded with Z');
  }
  const body = (name: string) => {
    const r = records.find((x) => x.name === `detector_v2/${name}`)!;
    return buf.subarray(r.dataStart, r.dataStart + r.size);
  };
  assert.deepEqual([...body('data.pkl').subarray(0, 2)], [0x80, 2]);
  assert.equal(body('byteorder').toString('latin1'), 'little');
  assert.equal(body('version').toString('latin1'), '3\n');
  // storage i holds the i-th tensor's bytes, as in the source checkpoint
  const source = [...stateDictOf(join(ROOT, 'fixtures/fasterrcnn/model.pth')).values()];
  source.forEach((t, i) => assert.ok(body(`data/${i}`).equals(bytesOf(t)), `data/${i}`));
  assert.equal(buf.readUInt32LE(buf.length - 22), 0x06054b50, 'ends with the central directory end record');
  assert.equal(archiveName('/x/my-model.v2.pth'), 'archive');
  assert.equal(archiveName('/x/model_1.pth'), 'model_1');
});

test('a write that fails half-way leaves the previous file and no temporary file', () => {
  const folder = join(work, 'failing');
  const out = join(folder, 'weights.pth');
  writeStateDictPth(out, [{ key: 'a', dtype: 'float32', shape: [2], data: () => new Float32Array([1, 2]) }]);
  const before = readFileSync(out);
  const tensors = ['a', 'b', 'c'].map((key, i) => ({
    key, dtype: 'float32' as const, shape: [1 << 16],
    data: () => {
      if (i === 2) throw new Error('producer failed');
      return new Float32Array(1 << 16);
    },
  }));
  assert.throws(() => writeStateDictPth(out, tensors), /producer failed/);
  assert.ok(readFileSync(out).equals(before));
  assert.deepEqual(readdirSync(folder), ['weights.pth']);
});

test('streamed tensors: the CRC-32 of every record, in its local header and in the central directory, is that of its bytes', () => {
  const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i + seed));
  const big = values(300_000, 1);
  const small = values(5000, 2);
  const pieces = (v: Float32Array, size: number) => (write: (p: Uint8Array) => void) => {
    // one reused piece buffer, as export's buffers are
    const piece = new Float32Array(size);
    for (let i = 0; i < v.length; i += size) {
      const part = piece.subarray(0, Math.min(size, v.length - i));
      part.set(v.subarray(i, i + part.length));
      write(new Uint8Array(part.buffer, 0, part.byteLength));
    }
  };
  const out = join(work, 'streamed.pth');
  writeStateDictPth(out, [
    { key: 'big', dtype: 'float32', shape: [300_000], data: () => big, stream: pieces(big, 70_000) },
    { key: 'small', dtype: 'float32', shape: [5000], data: () => small, stream: pieces(small, 999) },
    { key: 'whole', dtype: 'float32', shape: [5000], data: () => small },
  ]);
  const buf = readFileSync(out);
  const records = localRecords(buf);
  const central = new Map<string, number>();
  for (let at = buf.readUInt32LE(buf.length - 6); buf.readUInt32LE(at) === 0x02014b50; at += 46 + buf.readUInt16LE(at + 28) + buf.readUInt16LE(at + 30) + buf.readUInt16LE(at + 32)) {
    central.set(buf.toString('utf8', at + 46, at + 46 + buf.readUInt16LE(at + 28)), buf.readUInt32LE(at + 16));
  }
  for (const r of records) {
    const want = crc32(buf.subarray(r.dataStart, r.dataStart + r.size));
    assert.equal(r.crc, want, `${r.name}: local header`);
    assert.equal(central.get(r.name), want, `${r.name}: central directory`);
  }
  const body = (i: number) => { const r = records[2 + i]; return buf.subarray(r.dataStart, r.dataStart + r.size); };
  assert.ok(body(0).equals(Buffer.from(big.buffer)) && body(1).equals(Buffer.from(small.buffer)) && body(2).equals(Buffer.from(small.buffer)));
  // A producer that hands over fewer bytes than its shape needs is torchport's own bug.
  assert.throws(
    () => writeStateDictPth(out, [{ key: 'short', dtype: 'float32', shape: [10], data: () => small, stream: (w) => w(new Uint8Array(36)) }]),
    /^Error: internal: tensor 'short' produced 36 bytes, not 40$/,
  );
  assert.deepEqual(readdirSync(work).filter((f) => f.startsWith('.streamed')), [], 'no temporary file left');
});
