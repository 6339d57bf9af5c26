// safetensors in and out: the reader refuses every malformed header with one line naming the file
// (exit 2 through the CLI), bf16/fp16 survive a write and read exactly, and a safetensors file
// converts like the .pth it was exported from.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readCheckpoint } from '../../src/checkpoint/read.js';
import { writeSafetensors } from '../../src/checkpoint/write-safetensors.js';
import { InputError } from '../../src/errors.js';
import { exportStateDict } from '../../src/export/write.js';
import { convertCheckpoint } from '../../src/models/convert.js';
import { bytesOf, differences, stateDictOf } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'torchport-st-'));
after(() => rmSync(work, { recursive: true, force: true }));

function file(name: string, header: unknown, data: Uint8Array | number, headerText?: string): string {
  const json = Buffer.from(headerText ?? JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const body = typeof data === 'number' ? Buffer.alloc(data) : Buffer.from(data);
  const path = join(work, name);
  writeFileSync(path, Buffer.concat([len, json, body]));
  return path;
}

const f32 = (offsets: [number, number], shape = [2]) => ({ dtype: 'F32', shape, data_offsets: offsets });

for (const [name, make, message] of [
  ['overlap.safetensors', () => file('overlap.safetensors', { a: f32([0, 8]), b: f32([4, 12]) }, 12), "safetensors: tensor 'b' (bytes 4..12) overlaps the tensor before it"],
  ['range.safetensors', () => file('range.safetensors', { a: f32([0, 8]), b: f32([8, 16]) }, 12), "safetensors: tensor 'b' has data_offsets [8, 16] outside the 12 data bytes"],
  ['count.safetensors', () => file('count.safetensors', { a: f32([0, 12]) }, 12), "safetensors: tensor 'a' holds 12 bytes but float32[2] needs 8"],
  ['dtype.safetensors', () => file('dtype.safetensors', { a: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] } }, 2), "safetensors: tensor 'a' has unknown or unsupported dtype \"F8_E4M3\" (known: F32, F16, BF16, F64, I8, I16, I32, I64, U8, BOOL)"],
  ['trailing.safetensors', () => file('trailing.safetensors', { a: f32([0, 8]) }, 9), 'safetensors: 1 trailing bytes after the last tensor'],
  ['hole.safetensors', () => file('hole.safetensors', { a: f32([0, 8]), b: f32([12, 20]) }, 20), 'safetensors: bytes 8..12 of the data belong to no tensor'],
  ['json.safetensors', () => file('json.safetensors', null, 0, '{"a": '), 'safetensors: header is not valid JSON'],
  ['huge.safetensors', () => {
    const p = join(work, 'huge.safetensors');
    const b = Buffer.alloc(16);
    b.writeBigUInt64LE(100_000_001n);
    b.write('{}', 8);
    writeFileSync(p, b);
    return p;
  }, 'safetensors: header length 100000001 exceeds the 100000000-byte limit'],
  ['short.safetensors', () => file('short.safetensors', null, 0, '{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}'), "safetensors: tensor 'a' has data_offsets [0, 4] outside the 0 data bytes"],
  ['meta.safetensors', () => file('meta.safetensors', { __metadata__: { n: 1 } }, 0), 'safetensors: __metadata__.n is not a string'],
] as Array<[string, () => string, string]>) {
  test(`bad safetensors: ${name} → one line, exit 2`, () => {
    const path = make();
    assert.throws(() => readCheckpoint(path), (err: unknown) => err instanceof InputError && err.message.startsWith(`${path}: ${message}`));
    const r = spawnSync(process.execPath, ['bin/torchport.js', 'inspect', path], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(r.stderr.includes(path) && r.stderr.includes(message.slice(0, 40)), r.stderr);
  });
}

test('bf16, fp16, int64 and bool round-trip exactly; metadata is kept as strings; header padded to 8 bytes', () => {
  const tensors = [
    { key: 'bf', dtype: 'bfloat16' as const, shape: [3], data: () => new Uint16Array([0x3f80, 0x7f80, 0xffc1]) },
    { key: 'h', dtype: 'float16' as const, shape: [2, 2], data: () => new Uint16Array([0x3c00, 0x0001, 0xfbff, 0x7e00]) },
    { key: 'n', dtype: 'int64' as const, shape: [], data: () => new BigInt64Array([-(2n ** 62n)]) },
    { key: 'b', dtype: 'bool' as const, shape: [2], data: () => new Uint8Array([1, 0]) },
  ];
  const path = join(work, 'mixed.safetensors');
  writeSafetensors(path, tensors, { format: 'pt' });
  const raw = readFileSync(path);
  assert.equal(Number(raw.readBigUInt64LE(0)) % 8, 0);
  assert.deepEqual(JSON.parse(raw.toString('utf8', 8, 8 + Number(raw.readBigUInt64LE(0)))).__metadata__, { format: 'pt' });
  const back = stateDictOf(path);
  for (const t of tensors) {
    const u = back.get(t.key)!;
    assert.equal(u.dtype, t.dtype);
    assert.deepEqual(u.shape, t.shape);
    const d = t.data();
    assert.ok(bytesOf(u).equals(Buffer.from(d.buffer, d.byteOffset, d.byteLength)), t.key);
  }
});

test('a safetensors file converts to the same weights as the .pth it was exported from', async () => {
  const fromPth = join(work, 'from_pth');
  assert.ok((await convertCheckpoint(join(ROOT, 'fixtures/fasterrcnn/model.pth'), fromPth)).written);
  const st = join(work, 'detector.safetensors');
  exportStateDict(fromPth, st, { format: 'safetensors' });
  const fromSt = join(work, 'from_st');
  assert.ok((await convertCheckpoint(st, fromSt)).written);
  assert.ok(readFileSync(join(fromPth, 'group1-shard1of1.bin')).equals(readFileSync(join(fromSt, 'group1-shard1of1.bin'))));
  assert.deepEqual(differences(stateDictOf(join(ROOT, 'fixtures/fasterrcnn/model.pth')), stateDictOf(st)), []);
  const diff = spawnSync(process.execPath, ['bin/torchport.js', 'diff', st], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(diff.status, 0, diff.stderr);
  assert.match(diff.stdout, /284 matched, 0 missing/);
});
