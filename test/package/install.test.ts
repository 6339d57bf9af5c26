// The package as a user gets it: `npm pack`, install the tarball into an empty project, run
// `npx torchport demo` (few images, one epoch) and the `torchport detect` command the demo prints.
// The install is offline: the empty project gets a lockfile made from this repository's (its
// run-time entries only), so `npm ci --offline` takes every package from the npm cache that
// installing this repository filled. Install scripts are skipped (tfjs-node-gpu's would download
// libtensorflow). Needs `npm run build` first (`npm test` does it).
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';

const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'torchport-install-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface LockEntry {
  dev?: boolean;
  [key: string]: unknown;
}

function run(cmd: string, args: string[], opts: SpawnSyncOptions = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: dir, timeout: 150_000, ...opts });
  return { status: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** package.json and package-lock.json of a project that depends on the tarball `tgz` alone. */
function writeProject(tgz: string): void {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const self = lock.packages[''];
  const dependencies = { torchport: `file:${tgz}` };
  const packages: Record<string, LockEntry> = {
    '': { name: 'user-project', version: '1.0.0', dependencies },
    'node_modules/torchport': {
      version: pkg.version,
      resolved: `file:${tgz}`,
      license: pkg.license,
      dependencies: self.dependencies,
      optionalDependencies: self.optionalDependencies,
      bin: pkg.bin,
      engines: pkg.engines,
    },
  };
  for (const [path, entry] of Object.entries(lock.packages)) if (path.startsWith('node_modules/') && !entry.dev) packages[path] = entry;
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'user-project', version: '1.0.0', private: true, dependencies }));
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: 'user-project', version: '1.0.0', lockfileVersion: 3, requires: true, packages }));
}

test('the packed package installs into an empty project, and its demo and detect run', { timeout: 300_000 }, () => {
  assert.ok(existsSync(join(ROOT, 'dist/cli-bundle/main.js')), 'dist/ is missing: run `npm run build` first');
  const packed = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT });
  assert.equal(packed.status, 0, packed.stderr);
  const [{ filename, files }] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
  const paths = files.map((f) => f.path);
  for (const p of ['LICENSE', 'README.md', 'assets/demo-detector.pth', 'docs/training.md', 'bin/torchport.js', 'dist/index.js', 'dist/cli-bundle/main.js', 'configs/faster-rcnn_mobilenetv3-large-320-fpn_shapes-demo.js']) {
    assert.ok(paths.includes(p), `${p} is not in the package`);
  }
  assert.deepEqual(paths.filter((p) => /^(dist\/cli\/|src\/|test\/|fixtures\/)/.test(p)), []);

  writeProject(filename);
  const installed = run('npm', ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund']);
  assert.equal(installed.status, 0, `${installed.stdout}\n${installed.stderr}`);
  assert.ok(!existsSync(join(dir, 'node_modules/tsx')), 'tsx is installed as a run-time dependency');

  const demo = run('npx', ['--offline', 'torchport', 'demo', '--epochs', '1', '--train', '8', '--val', '4', '--draw', '2', '--out', 'demo-out']);
  assert.equal(demo.status, 0, `${demo.stdout}\n${demo.stderr}`);
  const pkgDir = join(dir, 'node_modules/torchport');
  assert.match(demo.stderr, new RegExp(`converted ${pkgDir}/assets/demo-detector\\.pth → .*: 284 matched, 0 missing`));
  assert.match(demo.stdout, /^demo finished in \d+ s$/m);
  for (const name of ['000001.png', '000002.png']) assert.equal(readFileSync(join(dir, 'demo-out/detections', name)).subarray(1, 4).toString(), 'PNG');

  // The demo's last line is the command that runs the fine-tuned model on an image of one's own.
  const last = demo.stdout.trim().split('\n').at(-1) ?? '';
  const command = /^\s*(torchport detect \S+) YOUR_IMAGE\.png --out (\S+)$/.exec(last);
  assert.ok(command, last);
  const [cmd, ...args] = `${command[1]} demo-out/shapes/val/000003.png --out ${command[2]} --backend wasm`.split(' ');
  const detected = run('npx', ['--offline', cmd, ...args]);
  assert.equal(detected.status, 0, `${detected.stdout}\n${detected.stderr}`);
  assert.match(detected.stdout, /demo-out\/shapes\/val\/000003\.png/);
  assert.ok(existsSync(join(dir, command[2], '000003.png')));
});
