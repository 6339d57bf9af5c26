// Bad input: malicious pickles, unknown globals, truncated/corrupted/garbage files. Each must give
// one InputError naming the file and the problem; nothing is executed; no hang, no other error type.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { InputError } from '../../src/errors.js';
import { PyInstance } from '../../src/checkpoint/pyobjects.js';
import { readCheckpoint, readCheckpointBytes } from '../../src/checkpoint/read.js';
import { FIXTURES, fixture } from './helpers.js';

function errorOf(name: string, strict = false): string {
  try {
    readCheckpoint(fixture(name), { strict });
  } catch (err) {
    assert.ok(err instanceof InputError, `${name}: ${String(err)}`);
    assert.ok(err.message.startsWith(`${fixture(name)}: `), err.message);
    return err.message.slice(fixture(name).length + 2);
  }
  return assert.fail(`${name} was accepted`);
}

const CODE = (g: string) => `refusing to read: it references '${g}', which can run code; this is not a plain checkpoint (nothing from it was executed)`;

test('globals that run code are refused, strict or not, and never run', () => {
  for (const strict of [false, true]) {
    assert.equal(errorOf('malicious_system.pth', strict), CODE('posix.system'));
    assert.equal(errorOf('malicious_eval_legacy.pth', strict), CODE('builtins.eval'));
    assert.equal(errorOf('malicious_popen.pth', strict), CODE('subprocess.Popen'));
  }
  assert.equal(existsSync('/tmp/torchport-pwned'), false);
});

test('unknown globals become named placeholders by default and are refused under strict', () => {
  assert.equal(errorOf('unknown_global.pth', true), "refusing to read under --strict: it references 'mylib.config.TrainConfig', which is not a "
    + 'plain checkpoint type; without --strict it is kept as an inert placeholder (nothing from it is run)');
  const ckpt = readCheckpoint(fixture('unknown_global.pth'));
  assert.deepEqual(ckpt.warnings, ["unknown global 'mylib.config.TrainConfig' kept as an inert placeholder"]);
  const cfg = (ckpt.object as Map<string, unknown>).get('cfg');
  assert.ok(cfg instanceof PyInstance && cfg.placeholder);
  assert.deepEqual(Object.fromEntries(cfg.attrs), { lr: 0.01, name: 'run-1' });
});

test('unsupported tensor kinds name the tensor', () => {
  assert.equal(errorOf('complex.pth'), "tensor 'w' has dtype complex64 (torch.ComplexFloatStorage), which torchport does not read");
});

test('sizes are validated against storages before anything is allocated', () => {
  assert.equal(errorOf('oversized_tensor.pth'),
    "tensor 'w' (size [1000], stride [1], offset 0) reaches element 999 but its storage 'oversized_tensor/data/0' holds 10 float32 elements");
  assert.equal(errorOf('short_record.pth'), "storage record 'small/data/0' holds 8 bytes but its 6 float32 elements need 24");
  assert.equal(errorOf('missing_record.pth'), "storage record 'small/data/1' is missing from the zip archive");
  assert.equal(errorOf('expanded_huge.pth'),
    "tensor 'w' (size [100000000]) would need more memory than the file's size justifies (a stride-0 view?)");
});

test('truncated, corrupted and foreign files', () => {
  assert.equal(errorOf('truncated_zip.pth'), 'not a readable zip archive: no end-of-central-directory record (truncated?)');
  assert.equal(errorOf('bad_crc.pth'), "zip record 'small/data.pkl' fails its CRC-32 check (corrupted; --no-verify skips the check)");
  // Legacy storage keys are memory addresses, so the cut's exact offset varies between regenerations.
  assert.match(errorOf('truncated_legacy.pth'), /^corrupted pickle stream \(the pickle stream, byte \d+\): truncated: /);
  assert.match(errorOf('truncated_legacy_storage.pth'), /^truncated: storage '\d+' is missing$/);
  assert.equal(errorOf('corrupted_pickle.pth'), 'corrupted pickle stream (small/data.pkl, byte 113): truncated: missing end of line');
  assert.equal(errorOf('bad_opcode.pth'), 'corrupted pickle stream (small/data.pkl, byte 2): unknown opcode 0xff');
  assert.equal(errorOf('random.bin'), 'is not a PyTorch checkpoint: neither a zip archive nor a pickle stream (starts with 0x133725f4)');
  assert.equal(errorOf('random_pickle.bin'), 'corrupted pickle stream (the pickle stream, byte 2): unknown opcode 0x17');
  assert.equal(errorOf('plain_pickle.pkl'), 'is a pickle but not a PyTorch checkpoint (no torch magic number)');
  assert.equal(errorOf('torchscript.pt'),
    'is a TorchScript archive (torch.jit.save), not a torch.save checkpoint; save model.state_dict() with torch.save');
  assert.equal(errorOf('empty.pth'), 'is empty');
});

test('a directory or a missing path', () => {
  assert.throws(() => readCheckpoint(FIXTURES), new InputError('is a directory, not a checkpoint file', FIXTURES));
  assert.throws(() => readCheckpoint(fixture('nope.pth')), new InputError('no such file', fixture('nope.pth')));
});

/** Deterministic PRNG (mulberry32) so the fuzz cases are the same every run. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('every truncation and 300 random corruptions of real checkpoints give an InputError or a valid read', () => {
  const rand = rng(42);
  for (const name of ['dtypes.pth', 'dtypes_legacy.pth', 'wrap_model_p1_legacy.pth']) {
    const good = readFileSync(fixture(name));
    const cases: Buffer[] = [];
    for (let n = 0; n < good.length; n += 7) cases.push(good.subarray(0, n));
    for (let i = 0; i < 100; i++) {
      const bad = Buffer.from(good);
      for (let k = 0; k < 1 + Math.floor(rand() * 4); k++) bad[Math.floor(rand() * bad.length)] = Math.floor(rand() * 256);
      cases.push(bad);
    }
    for (const bytes of cases) {
      try {
        readCheckpointBytes(bytes, name);
      } catch (err) {
        assert.ok(err instanceof InputError, `${name} (${bytes.length} bytes): ${(err as Error).stack}`);
        assert.ok(!err.message.includes('\n'), err.message);
      }
    }
  }
});

test('names quoted from the file keep the message on one line: control characters are escaped', () => {
  // missing_record.pth with its missing storage key '1' changed to a newline in data.pkl
  const bytes = readFileSync(fixture('missing_record.pth'));
  const at = bytes.indexOf(Buffer.from('X\x01\x00\x00\x001q\x11', 'latin1'));
  assert.ok(at > 0);
  bytes[at + 5] = 0x0a;
  assert.throws(() => readCheckpointBytes(bytes, 'edited.pth', { verify: false }), (err: Error) => {
    assert.ok(err instanceof InputError);
    assert.equal(err.message, "edited.pth: storage record 'small/data/\\x0a' is missing from the zip archive");
    return true;
  });
});
