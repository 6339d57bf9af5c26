// Backend selection, backend status for `doctor`, and the training preflight.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, type BackendRequest } from '../../src/backend/select.js';
import { backendStatus, classifyNativeLoadError } from '../../src/backend/status.js';
import { formatPreflight, preflight } from '../../src/backend/preflight.js';
import './helpers.js';

// What is installed decides what auto skips: tfjs-node(-gpu) and webgpu are optional dependencies
// (a networked `npm ci` installs tfjs-node-gpu), so the expectations follow backendStatus.
async function expectedSkips(): Promise<RegExp[]> {
  const status = await backendStatus();
  const skips: RegExp[] = [];
  for (const s of status.filter((s) => s.backend === 'tensorflow')) {
    if (!s.installed) skips.push(new RegExp(`${s.package}: not installed`));
    else skips.push(/tfjs-node-gpu: CPU only \(no CUDA 11\.2 \/ cuDNN 8\.1 found\)|@tensorflow\/tfjs-node(-gpu)?: /);
  }
  const webgpu = status.find((s) => s.backend === 'webgpu')!;
  skips.push(!webgpu.installed ? /webgpu: not installed/ : /webgpu: no usable GPU adapter: /);
  return skips;
}

test('auto falls back past what is missing (or runs on the CPU) to wasm with the kernels, and says so', async () => {
  const choice = await selectBackend('auto');
  assert.equal(choice.name, 'wasm', 'no GPU here: neither tfjs-node-gpu nor a hardware WebGPU adapter');
  assert.equal(tf.getBackend(), 'wasm');
  assert.match(choice.detail, /^@tensorflow\/tfjs-backend-wasm 4\.22\.0 \(SIMD, 1 thread\) \+ torchport kernels \(gradients; relaxed-SIMD GEMM and depthwise\); skipped /);
  for (const skip of await expectedSkips()) assert.match(choice.detail, skip);
  for (const kernel of ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'UnsortedSegmentSum']) {
    assert.ok(tf.getKernel(kernel, 'wasm'), kernel);
  }
  assert.equal((await selectBackend('cpu')).name, 'cpu');
  await assert.rejects(selectBackend('webgl' as BackendRequest), /^InputError: unknown backend 'webgl' \(one of auto, tensorflow, webgpu, wasm, cpu\)$/);
});

test('--backend tensorflow without tfjs-node(-gpu) names each missing package', async (t) => {
  const status = await backendStatus();
  if (status.some((s) => s.backend === 'tensorflow' && s.installed)) return t.skip('tfjs-node(-gpu) is installed here');
  await assert.rejects(selectBackend('tensorflow'), /tfjs-node\(-gpu\) cannot be used \(@tensorflow\/tfjs-node-gpu: not installed; @tensorflow\/tfjs-node: not installed\); see `torchport doctor`/);
});

// tfjs-node-gpu replaced by a module that registers a 'tensorflow' backend saying whether it has a
// GPU device (FAKE_TF_GPU), through a resolve hook, in a child process.
function withFakeNodeGpu(gpu: boolean): { auto: { name: string; detail: string }; explicit: { name: string; detail: string } } {
  const fake = new URL('./fake-tfjs-node-gpu.ts', import.meta.url).href;
  const hook = `export async function resolve(s, c, n) { return s === '@tensorflow/tfjs-node-gpu' ? n(${JSON.stringify(fake)}, c) : n(s, c); }`;
  const setup = `data:text/javascript,${encodeURIComponent(`import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`)}`;
  const script = `import { selectBackend } from ${JSON.stringify(new URL('../../src/backend/select.ts', import.meta.url).href)};
    const auto = await selectBackend('auto'); const explicit = await selectBackend('tensorflow');
    console.log(JSON.stringify({ auto, explicit }));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', setup, '--input-type=module', '-e', script], {
    encoding: 'utf8', env: { ...process.env, FAKE_TF_GPU: gpu ? '1' : '0' },
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

test('tfjs-node-gpu counts for auto only when TensorFlow has a GPU device; without one it says CPU only', () => {
  const cpuOnly = withFakeNodeGpu(false);
  assert.equal(cpuOnly.auto.name, 'wasm');
  assert.match(cpuOnly.auto.detail, /; skipped tfjs-node-gpu: CPU only \(no CUDA 11\.2 \/ cuDNN 8\.1 found\); /);
  assert.deepEqual(cpuOnly.explicit, { name: 'tensorflow', detail: '@tensorflow/tfjs-node-gpu: CPU only (no CUDA 11.2 / cuDNN 8.1 found)' });
  const gpu = withFakeNodeGpu(true);
  assert.deepEqual(gpu.auto, { name: 'tensorflow', detail: '@tensorflow/tfjs-node-gpu (GPU device)' });
});

test('backendStatus reports each backend in auto order, with why tfjs-node(-gpu) is unusable', async () => {
  const status = await backendStatus();
  assert.deepEqual(status.map((s) => [s.backend, s.package]), [
    ['tensorflow', '@tensorflow/tfjs-node-gpu'],
    ['tensorflow', '@tensorflow/tfjs-node'],
    ['webgpu', '@tensorflow/tfjs-backend-webgpu'],
    ['wasm', '@tensorflow/tfjs-backend-wasm'],
    ['cpu', '@tensorflow/tfjs-backend-cpu'],
  ]);
  for (const s of status.filter((s) => s.backend === 'tensorflow' && !s.installed)) {
    assert.deepEqual([s.usable, s.reason, s.detail], [false, 'missing-package', `${s.package} is not installed`]);
  }
  assert.deepEqual(status.slice(3).map((s) => [s.installed, s.usable, s.reason, s.autoSkips]), [
    [true, true, undefined, undefined],
    [true, true, undefined, undefined],
  ]);
  assert.equal(status[3].detail, '@tensorflow/tfjs-backend-wasm 4.22.0 (SIMD)');
});

test('native load errors are classified by cause', () => {
  assert.equal(classifyNativeLoadError("Cannot find package '@tensorflow/tfjs-node-gpu' imported from /x.js"), 'missing-package');
  assert.equal(classifyNativeLoadError('libcudart.so.11.0: cannot open shared object file: No such file or directory'), 'cuda-libs-missing');
  assert.equal(classifyNativeLoadError('libcudnn.so.8: cannot open shared object file: No such file or directory'), 'cuda-libs-missing');
  assert.equal(classifyNativeLoadError("Cannot find module '/app/node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node'"), 'libtensorflow-missing');
  assert.equal(classifyNativeLoadError('libtensorflow.so.2: cannot open shared object file'), 'libtensorflow-missing');
  assert.equal(classifyNativeLoadError('something else'), 'load-failed');
});

test('preflight lists every kernel a step lacks, not only the first, leaks nothing and leaves the backend as it was', async () => {
  await selectBackend('wasm');
  const w = tf.variable(tf.randomNormal([3, 3, 2, 4], 0, 0.1, 'float32', 1));
  const d = tf.variable(tf.randomNormal([3, 3, 4, 1], 0, 0.1, 'float32', 2));
  const x = tf.randomNormal([1, 8, 8, 2], 0, 1, 'float32', 3) as tf.Tensor4D;
  const loss = () => tf.sum(tf.gather(tf.reshape(tf.depthwiseConv2d(tf.conv2d(x, w as tf.Tensor4D, 1, 'same'), d as tf.Tensor4D, 1, 'same'), [64, 4]), tf.tensor1d([1, 5, 5], 'int32'))) as tf.Scalar;

  const ok = await preflight(loss, [w, d]);
  assert.equal(ok.ok, true);
  assert.equal(formatPreflight(ok), `preflight on wasm: ok (loss ${ok.loss})`);

  // Take two of torchport's kernels away: the preflight must name both.
  const removed = ['UnsortedSegmentSum', 'Conv2DBackpropFilter'].map((name) => tf.getKernel(name, 'wasm')!);
  removed.forEach((k) => tf.unregisterKernel(k.kernelName, 'wasm'));
  try {
    const before = tf.memory().numTensors;
    const report = await preflight(loss, [w, d]);
    assert.equal(tf.memory().numTensors, before, 'failed attempts leak nothing');
    assert.deepEqual(report.missingKernels, ['UnsortedSegmentSum', 'Conv2DBackpropFilter']);
    assert.equal(report.ok, false);
    assert.ok(Math.abs(report.loss! - ok.loss!) < 1e-4 * Math.abs(ok.loss!));
    assert.equal(formatPreflight(report), 'preflight on wasm: training would fail\n  missing kernel: UnsortedSegmentSum\n  missing kernel: Conv2DBackpropFilter');
    assert.equal(tf.getKernel('UnsortedSegmentSum', 'wasm'), undefined, 'the cpu stand-ins are removed again');
  } finally {
    removed.forEach((k) => tf.registerKernel(k));
  }
  tf.dispose([w, d, x]);
});

test('preflight names ops that have no gradient at all', async () => {
  await selectBackend('wasm');
  const v = tf.variable(tf.ones([2, 3]));
  const report = await preflight(() => tf.sum(tf.stridedSlice(v, [0, 0], [2, 2], [1, 1])) as tf.Scalar, [v]);
  assert.deepEqual(report.missingGradients, ['StridedSlice']);
  assert.match(formatPreflight(report), /no gradient defined for: StridedSlice/);
  v.dispose();
});
