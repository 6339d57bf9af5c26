// Integrity and error classes: every zip record's CRC-32 is checked by default and the failing record
// is named; --no-verify skips it; lazily read tensors are checked on first use; builtins that can run
// code stay refused while data-only ones decode; and a defect inside the reader is an InternalError,
// never an InputError.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mock, test } from 'node:test';
import { bufferSource } from '../../src/checkpoint/byte-source.js';
import { makeGlobalResolver, RefusedGlobalError } from '../../src/checkpoint/globals.js';
import { unpickle } from '../../src/checkpoint/pickle.js';
import { readCheckpoint, readCheckpointBytes } from '../../src/checkpoint/read.js';
import type { CheckpointTensor } from '../../src/checkpoint/storage.js';
import { readZipDirectory, recordStart } from '../../src/checkpoint/zip-directory.js';
import { InputError, InternalError } from '../../src/errors.js';
import { fixture } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** bf16.pth with one byte flipped inside the data of record bf16/data/0 (the first conv weight). */
function flipped(): { file: string; cleanup: () => void } {
  const bytes = Buffer.from(readFileSync(fixture('bf16.pth')));
  const src = bufferSource(bytes);
  const rec = readZipDirectory(src).find((r) => r.name === 'bf16/data/0')!;
  bytes[recordStart(src, rec) + 5] ^= 0x10;
  const dir = mkdtempSync(join(tmpdir(), 'torchport-crc-'));
  const file = join(dir, 'flipped.pth');
  writeFileSync(file, bytes);
  return { file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const CRC = "zip record 'bf16/data/0' fails its CRC-32 check (corrupted; --no-verify skips the check)";

test('a flipped byte inside a weight fails its record\'s CRC-32, by name; --no-verify reads it', () => {
  const { file, cleanup } = flipped();
  try {
    assert.throws(() => readCheckpoint(file), new InputError(CRC, file));
    const good = (readCheckpoint(fixture('bf16.pth')).object as Map<string, CheckpointTensor>).get('0.conv.weight')!;
    const bad = (readCheckpoint(file, { verify: false }).object as Map<string, CheckpointTensor>).get('0.conv.weight')!;
    const diff = [...new Uint8Array(bad.data.buffer, bad.data.byteOffset, bad.data.byteLength)]
      .map((b, i) => b ^ new Uint8Array(good.data.buffer, good.data.byteOffset, good.data.byteLength)[i]);
    assert.deepEqual(diff.flatMap((x, i) => (x ? [[i, x]] : [])), [[5, 0x10]]);
    // Read lazily, the record is read and checked when the tensor's data is first used.
    const lazy = (readCheckpoint(file, { lazy: true }).object as Map<string, CheckpointTensor>).get('0.conv.weight')!;
    assert.equal(lazy.loaded, false);
    assert.throws(() => lazy.data, new InputError(CRC, file));
  } finally {
    cleanup();
  }
});

test('a lazily read tensor whose file is gone since is bad input, not a crash', () => {
  const dir = mkdtempSync(join(tmpdir(), 'torchport-lazy-'));
  const file = join(dir, 'gone.pth');
  writeFileSync(file, readFileSync(fixture('bf16.pth')));
  try {
    const t = (readCheckpoint(file, { lazy: true }).object as Map<string, CheckpointTensor>).get('0.conv.weight')!;
    rmSync(file);
    assert.throws(() => t.data, new InputError('cannot read (ENOENT)', file));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('records no tensor uses are checked too (eager reads)', () => {
  const bytes = Buffer.from(readFileSync(fixture('bf16.pth')));
  const src = bufferSource(bytes);
  const rec = readZipDirectory(src).find((r) => r.name === 'bf16/version')!;
  bytes[recordStart(src, rec)] ^= 1;
  assert.throws(() => readCheckpointBytes(bytes, 'v.pth'), new InputError("zip record 'bf16/version' fails its CRC-32 check (corrupted; --no-verify skips the check)", 'v.pth'));
  assert.doesNotThrow(() => readCheckpointBytes(bytes, 'v.pth', { verify: false }));
});

const hooks = () => ({ resolveGlobal: makeGlobalResolver(false).resolve, persistentLoad: () => assert.fail('no persistent ids') });
const global = (module: string, name: string, tail: string) => Buffer.from(`\x80\x02c${module}\n${name}\n${tail}`, 'latin1');

test('data-only builtins decode; eval, exec, getattr and __import__ stay refused', () => {
  // dict([('a', 1)]) as protocol 2 pickles it
  const { value } = unpickle(global('__builtin__', 'dict', ']X\x01\x00\x00\x00aK\x01\x86a\x85R.'), 0, hooks());
  assert.deepEqual(value, new Map([['a', 1]]));
  for (const name of ['eval', 'exec', 'getattr', '__import__']) {
    assert.throws(() => unpickle(global('builtins', name, ')R.'), 0, hooks()), new RefusedGlobalError(`builtins.${name}`, true));
  }
});

test('an error that is not one of the reader\'s own checks is an InternalError, not bad input', () => {
  // Simulate a defect: a Buffer method the reader relies on throws a TypeError.
  const m = mock.method(Buffer.prototype, 'readUInt32LE', () => { throw new TypeError('simulated defect'); });
  try {
    assert.throws(() => readCheckpoint(fixture('bf16.pth')), (err: unknown) => {
      assert.ok(err instanceof InternalError && !(err instanceof InputError));
      assert.equal(err.message, `internal error while reading ${fixture('bf16.pth')}: simulated defect; please report`);
      assert.ok(err.cause instanceof TypeError);
      return true;
    });
  } finally {
    m.mock.restore();
  }
});

test('the CLI reports an internal error with exit 70, the stack trace only with --verbose', () => {
  const breaker = 'data:text/javascript,Buffer.prototype.readUInt32LE=function(){throw new TypeError("simulated defect")}';
  const run = (...extra: string[]) => spawnSync(process.execPath, ['--import', breaker, join(ROOT, 'bin', 'torchport.js'), 'inspect', fixture('bf16.pth'), ...extra], { encoding: 'utf8', cwd: ROOT });
  const plain = run();
  assert.equal(plain.status, 70, plain.stderr);
  assert.equal(plain.stderr, `torchport: internal error while reading ${fixture('bf16.pth')}: simulated defect; please report\ntorchport: --verbose shows the stack trace\n`);
  const verbose = run('--verbose');
  assert.equal(verbose.status, 70);
  assert.match(verbose.stderr, /TypeError: simulated defect\n\s+at /);
});
