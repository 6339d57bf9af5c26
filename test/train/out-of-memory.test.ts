// A heap exhausted during a step is the input being too large, said in one line: the real
// RuntimeError a wasm module raises on an out-of-bounds access, and emscripten's abort text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../../src/backend/select.js';
import { InputError } from '../../src/errors.js';
import { isOutOfMemory, outOfMemoryError } from '../../src/train/out-of-memory.js';

await selectBackend('wasm');

/** (module (memory 1) (func (export "f") (drop (i32.load (i32.const 1000000))))) */
function outOfBounds(): Error {
  const bytes = Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type: () -> ()
    0x03, 0x02, 0x01, 0x00, // function 0 of type 0
    0x05, 0x03, 0x01, 0x00, 0x01, // memory: min 1 page
    0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00, // export "f"
    0x0a, 0x0c, 0x01, 0x0a, 0x00, 0x41, 0xc0, 0x84, 0x3d, 0x28, 0x02, 0x00, 0x1a, 0x0b, // i32.const 1000000; i32.load; drop
  ]);
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  try {
    (exports.f as () => void)();
  } catch (err) {
    return err as Error;
  }
  throw new Error('the out-of-bounds load did not trap');
}

test("wasm's out-of-bounds trap and emscripten's enlarge failure are out of memory; other errors are not", () => {
  const trap = outOfBounds();
  assert.equal(trap.message, 'memory access out of bounds');
  assert.ok(isOutOfMemory(trap));
  assert.ok(isOutOfMemory(new Error('Aborted(Cannot enlarge memory arrays to size 4294967296 bytes (OOM))')));
  assert.ok(isOutOfMemory(new RangeError('Array buffer allocation failed')));
  assert.ok(!isOutOfMemory(new TypeError("Cannot read properties of undefined (reading 'shape')")));
  assert.ok(!isOutOfMemory(new Error('memory leak suspected')));
});

test('outOfMemoryError: one line with the heap reached and the advice; anything else passes through unchanged', () => {
  const err = outOfMemoryError(outOfBounds(), 'in a training step', 'lower data.batchSize (now 2)', 'cfg.js');
  assert.ok(err instanceof InputError);
  assert.match(
    err.message,
    /^cfg\.js: out of memory in a training step: the wasm heap reached [\d,]+ MB of its 4,096 MB limit \(memory access out of bounds\); lower data\.batchSize \(now 2\)$/,
  );
  const other = new TypeError('a bug');
  assert.equal(outOfMemoryError(other, 'in a training step', '', 'cfg.js'), other);
});
