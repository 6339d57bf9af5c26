// `torchport doctor` as a process (run `npm run build` first; `npm test` does). On this machine
// tfjs-node(-gpu) are not installed, wasm and cpu are.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { offlineInstallAdvice } from '../../src/cli/commands/doctor.js';

const ROOT = join(import.meta.dirname, '..', '..');

function torchport(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'torchport.js'), ...args], { encoding: 'utf8', cwd: ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('lists every backend with usability, what auto picks, and the offline install recipe', () => {
  const r = torchport('doctor');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.equal(lines[0], 'TF.js backends, in the order `--backend auto` tries them:');
  assert.equal(lines[1], '  unusable  tensorflow @tensorflow/tfjs-node-gpu (not installed)');
  assert.equal(lines[3], '  unusable  tensorflow @tensorflow/tfjs-node (not installed)');
  assert.equal(lines[5], '  usable    wasm       @tensorflow/tfjs-backend-wasm 4.22.0');
  assert.equal(lines[7], '  usable    cpu        @tensorflow/tfjs-backend-cpu 4.22.0');
  assert.ok(lines.includes('auto picks: wasm (@tensorflow/tfjs-backend-wasm)'));
  assert.ok(lines.includes('How to install @tensorflow/tfjs-node-gpu without network access:'));
  assert.ok(r.stdout.includes('TFJS_NODE_CDN_STORAGE=http://your-mirror/ npm install @tensorflow/tfjs-node-gpu@4.22.0'));
});

test('--json gives the statuses as data', () => {
  const r = torchport('doctor', '--json');
  assert.equal(r.code, 0, r.stderr);
  const statuses = JSON.parse(r.stdout) as { package: string; usable: boolean; reason?: string }[];
  assert.deepEqual(
    statuses.map((s) => [s.package, s.usable, s.reason]),
    [
      ['@tensorflow/tfjs-node-gpu', false, 'missing-package'],
      ['@tensorflow/tfjs-node', false, 'missing-package'],
      ['@tensorflow/tfjs-backend-wasm', true, undefined],
      ['@tensorflow/tfjs-backend-cpu', true, undefined],
    ],
  );
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
