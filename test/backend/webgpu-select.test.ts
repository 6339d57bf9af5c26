// The webgpu backend on this GPU-less machine: Mesa's software adapter through Dawn's OpenGL ES
// backend, taken only when asked for; and the one-line failures (no package, no adapter, a lost
// device, an adapter that never answers). Skips, with the reason, where webgpu is not installed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import { backendStatus } from '../../src/backend/status.js';
import { timeLimit, webGpuState } from '../../src/backend/webgpu.js';
import { InputError } from '../../src/errors.js';

const ROOT = join(import.meta.dirname, '..', '..');
const status = (await backendStatus()).find((s) => s.backend === 'webgpu')!;
const skip = status.usable ? false : `webgpu is not usable here: ${status.detail}`;

function torchport(args: string[], options: { env?: NodeJS.ProcessEnv; nodeArgs?: string[] } = {}) {
  const r = spawnSync(process.execPath, [...(options.nodeArgs ?? []), join(ROOT, 'bin', 'torchport.js'), ...args], {
    encoding: 'utf8', cwd: ROOT, env: { ...process.env, ...options.env },
  });
  // Dawn and Mesa write their own warnings to stderr; torchport's message is the line it prefixes.
  return { code: r.status, stdout: r.stdout, message: r.stderr.split('\n').filter((l) => l.startsWith('torchport: ')) };
}

test('--backend webgpu runs on the software adapter, names it and warns that it is slower than wasm', { skip }, async () => {
  const choice = await selectBackend('webgpu');
  assert.equal(choice.name, 'webgpu');
  assert.equal(tf.getBackend(), 'webgpu');
  assert.match(choice.detail, /^@tensorflow\/tfjs-backend-webgpu on "OpenGL version OpenGL ES 3\.2 Mesa [\d.]+" \(vendor \w+, architecture \w+, device llvmpipe[^)]*\): software adapter via Dawn backend=opengles, slower than wasm$/);
  assert.equal(webGpuState()?.info.software, true);
  const y = tf.matMul(tf.ones([64, 32]), tf.ones([32, 48]));
  assert.deepEqual(Array.from(await y.data()).slice(0, 3), [32, 32, 32]);
  y.dispose();
  // A synchronous read of data only the GPU holds says why it cannot work in Node.
  const big = tf.add(tf.ones([50_000]), 1);
  assert.throws(() => big.dataSync(), /^Error: webgpu in Node reads GPU data only asynchronously \(await tensor\.data\(\)\)/);
  big.dispose();
});

test('auto never takes the software adapter, and says why it passed webgpu over', { skip }, async () => {
  const choice = await selectBackend('auto');
  assert.equal(choice.name, 'wasm');
  assert.match(choice.detail, /; webgpu: (no usable GPU adapter: no GPU device node|only a software adapter is running)/);
});

test('bad input: no package, no adapter, each one line and exit 2', { skip }, () => {
  // A resolve hook that hides the webgpu package, as on an install without optional dependencies.
  const hide = `data:text/javascript,${encodeURIComponent(`import { register } from 'node:module'; register('data:text/javascript,' + encodeURIComponent("export async function resolve(s, c, n) { if (s === 'webgpu') { const e = new Error('Cannot find package webgpu imported from ' + c.parentURL); e.code = 'ERR_MODULE_NOT_FOUND'; throw e; } return n(s, c); }"));`)}`;
  const missing = torchport(['detect', 'no-model', 'no.png', '--backend', 'webgpu'], { nodeArgs: ['--import', hide] });
  assert.equal(missing.code, 2);
  assert.deepEqual(missing.message, ['torchport: webgpu: the npm package webgpu is not installed; install it with `npm install --save-exact webgpu@0.6.2 @tensorflow/tfjs-backend-webgpu@4.22.0`']);

  const noAdapter = torchport(['detect', 'no-model', 'no.png', '--backend', 'webgpu'], { env: { EGL_PLATFORM: 'nonesuch' } });
  assert.equal(noAdapter.code, 2);
  assert.equal(noAdapter.message.length, 1);
  assert.match(noAdapter.message[0], /^torchport: webgpu: no usable GPU adapter: .*no software adapter through EGL_PLATFORM=nonesuch: install Mesa \(Debian: apt-get install libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri\) and leave EGL_PLATFORM unset$/);
});

test('an adapter or device request that never answers fails after its time limit', async () => {
  const started = Date.now();
  await assert.rejects(timeLimit(new Promise(() => {}), 50, 'the adapter request'), /^WebGpuError: webgpu: the adapter request did not answer within 0\.05 s$/);
  assert.ok(Date.now() - started < 2000);
  assert.equal(await timeLimit(Promise.resolve(7), 50, 'x'), 7);
});

test('a lost device: every later kernel and read fails with one line that says how to continue', { skip }, async () => {
  await selectBackend('webgpu');
  const x = tf.ones([256, 256]);
  (tf.backend() as unknown as { device: { destroy(): void } }).device.destroy();
  await new Promise((resolve) => setTimeout(resolve, 50)); // device.lost resolves asynchronously
  assert.match(webGpuState()?.lost ?? '', /./);
  const expected = /^webgpu: the GPU device was lost \(.+\); its tensors are gone\. A training run continues from its last saved checkpoint with --resume \(on any backend, e\.g\. --backend wasm\)$/;
  assert.throws(() => tf.matMul(x, x), (error: Error) => error instanceof InputError && expected.test(error.message));
  await assert.rejects(x.data(), (error: Error) => error instanceof InputError && expected.test(error.message));
  // A new request starts a new device.
  tf.removeBackend('webgpu');
  const again = await selectBackend('webgpu');
  assert.equal(again.name, 'webgpu');
  assert.equal(webGpuState()?.lost, undefined);
  assert.deepEqual(Array.from(await tf.add(tf.ones([2]), 1).data()), [2, 2]);
});

test('a device lost in the middle of training: latest/ is saved from the host copy, and one line says how to resume', { skip }, async () => {
  const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { Sgd } = await import('../../src/train/sgd.js');
  const { Trainer } = await import('../../src/train/trainer.js');
  const { webGpuDeviceLoss } = await import('../../src/backend/webgpu.js');
  await selectBackend('webgpu');
  const dir = mkdtempSync(join(tmpdir(), 'torchport-lost-'));
  const w = tf.variable(tf.tensor1d([1, -2, 3]), true, 'lost-test.w');
  const optimizer = new Sgd([w], { lr: 0.1 });
  const trainer = new Trainer({
    model: { namedVariables: () => new Map([['w', w]]), computeLoss: () => ({ total: tf.sum(tf.square(w)) as tf.Scalar, terms: {} }) },
    data: { batchesPerEpoch: 4, async *batches(_epoch, start) { for (let i = start; i < 4; i++) yield i; }, dispose: () => {} },
    optimizer,
    lrAt: () => 0.1,
    maxEpochs: 1,
    workDir: dir,
    progress: { iteration: () => {}, message: () => {}, close: () => {} },
    handleSigint: false,
    deviceLoss: { lost: webGpuDeviceLoss },
    afterIteration: (info) => { if (info.iteration === 2) (tf.backend() as unknown as { device: { destroy(): void } }).device.destroy(); },
  });
  await assert.rejects(trainer.fit(), (error: Error) => {
    assert.ok(error instanceof InputError, String(error));
    assert.match(error.message, /^webgpu: the GPU device was lost \(.+\); saved .+latest at iteration 2: continue with --resume \(on any backend, e\.g\. --backend wasm\)$/);
    return true;
  });
  assert.equal(JSON.parse(readFileSync(join(dir, 'latest', 'state.json'), 'utf8')).iteration, 2);
  rmSync(dir, { recursive: true, force: true });
  tf.removeBackend('webgpu');
  await selectBackend('webgpu');
});
