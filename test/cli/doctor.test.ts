// `torchport doctor` as a process (run `npm run build` first; `npm test` does). tfjs-node(-gpu) and
// webgpu are optional dependencies: the expectations follow what is installed here. This machine
// has no GPU, so webgpu, when installed, finds Mesa's software adapter (or none without Mesa).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { offlineInstallAdvice } from '../../src/cli/commands/doctor.js';
import { backendStatus } from '../../src/backend/status.js';

const ROOT = join(import.meta.dirname, '..', '..');

function torchport(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'torchport.js'), ...args], { encoding: 'utf8', cwd: ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('lists every backend with usability, the WebGPU adapter, what auto picks, and the offline install recipe', async () => {
  const status = await backendStatus();
  const installed = Object.fromEntries(status.map((s) => [s.package, s.installed]));
  const usable = Object.fromEntries(status.map((s) => [s.package, s.usable]));
  const r = torchport('doctor');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.equal(lines[0], 'TF.js backends, in the order `--backend auto` tries them:');
  // each backend's status once: one line, a second only for the adapter of a backend auto skips
  if (!installed['@tensorflow/tfjs-node-gpu']) assert.equal(lines[1], '  unusable  tensorflow @tensorflow/tfjs-node-gpu (not installed)');
  if (!installed['@tensorflow/tfjs-node']) assert.equal(lines[2], '  unusable  tensorflow @tensorflow/tfjs-node (not installed)');
  let next = 4;
  if (usable['@tensorflow/tfjs-backend-webgpu']) {
    assert.equal(lines[3], '  usable    webgpu     @tensorflow/tfjs-backend-webgpu 4.22.0 (auto skips it: software adapter: only with --backend webgpu)');
    assert.match(lines[4], /^ {12}adapter "OpenGL version OpenGL ES 3\.2 Mesa [\d.]+" \(vendor \w+, architecture \w+, device llvmpipe[^)]*\): software adapter via Dawn backend=opengles, slower than wasm$/);
    next = 5;
  } else {
    assert.match(lines[3], /^ {2}unusable {2}webgpu {5}@tensorflow\/tfjs-backend-webgpu/);
  }
  assert.equal(lines[next], '  usable    wasm       @tensorflow/tfjs-backend-wasm 4.22.0 (SIMD)');
  assert.equal(lines[next + 1], '  usable    cpu        @tensorflow/tfjs-backend-cpu 4.22.0 (pure JS, slow)');
  assert.equal(lines[next + 2], '');
  const statusLines = lines.slice(1, lines.indexOf(''));
  for (const s of status) assert.equal(statusLines.filter((l) => l.includes(`${s.package} `) || l.endsWith(s.package)).length, 1, s.package);
  assert.ok(!r.stdout.includes('is not installed'), r.stdout);
  assert.ok(lines.includes('auto picks: wasm (@tensorflow/tfjs-backend-wasm)'));
  if (!installed['@tensorflow/tfjs-node-gpu']) {
    assert.ok(lines.includes('How to install @tensorflow/tfjs-node-gpu without network access:'));
    assert.ok(r.stdout.includes('TFJS_NODE_CDN_STORAGE=http://your-mirror/ npm install @tensorflow/tfjs-node-gpu@4.22.0'));
  }
});

test('--json gives the statuses as data, the adapter with its fields', () => {
  const r = torchport('doctor', '--json');
  assert.equal(r.code, 0, r.stderr);
  const statuses = JSON.parse(r.stdout) as { package: string; installed: boolean; usable: boolean; reason?: string; adapter?: Record<string, unknown> }[];
  assert.deepEqual(statuses.map((s) => s.package), [
    '@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-cpu',
  ]);
  for (const s of statuses.slice(0, 2).filter((s) => !s.installed)) assert.deepEqual([s.usable, s.reason], [false, 'missing-package']);
  const webgpu = statuses[2];
  if (webgpu.installed && webgpu.usable) {
    assert.deepEqual(Object.keys(webgpu.adapter!), ['vendor', 'architecture', 'description', 'device', 'software']);
    assert.equal(webgpu.adapter!.software, true);
  }
  assert.deepEqual(statuses.slice(3).map((s) => [s.usable, s.reason]), [[true, undefined], [true, undefined]]);
});

test('with the package present but CUDA missing, the advice is about CUDA/cuDNN only', () => {
  const advice = offlineInstallAdvice({
    backend: 'tensorflow',
    package: '@tensorflow/tfjs-node-gpu',
    installed: true,
    usable: false,
    reason: 'cuda-libs-missing',
    detail: '',
  });
  assert.equal(advice.length, 4);
  assert.match(advice[2], /CUDA 11\.2, cuDNN 8\.1/);
});
