// A newcomer's path, as one test: the README's set-up commands that can run here, then every line
// of its Usage block in order (placeholders replaced by bundled fixtures, trainings shortened to a
// few iterations), then the bad inputs a newcomer meets. Each step asserts its exit code and first
// line. A Usage line this test does not know fails it, so the README and the product stay in step.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'torchport.js');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const cwd = mkdtempSync(join(tmpdir(), 'torchport-newcomer-'));
after(() => rmSync(cwd, { recursive: true, force: true }));

interface Run { code: number | null; stdout: string; stderr: string }
function torchport(args: string[]): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd, env: { ...process.env, NO_COLOR: '1' }, timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The lines of the first ```sh block after the heading, comments removed. */
function shellBlock(heading: string): string[] {
  const section = README.split(`\n## ${heading}\n`)[1];
  assert.ok(section, `README has no "## ${heading}" section`);
  const body = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return body.split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()).filter((l) => l !== '');
}

/** Splits a command line at spaces (README commands quote nothing). */
const words = (line: string): string[] => line.split(/\s+/);

/** What a successful run of each command prints first (stdout). */
const FIRST_LINE: Record<string, RegExp> = {
  inspect: /^file {8}\S+dli14_large\.pth$/,
  diff: /^mapping: dli14-mobilenetv3 → mobilenetv3_large /,
  features: /^mobilenetv3_large: feature layers/,
  convert: /^\S+ → \S+: \d+ matched, 0 missing, 0 unexpected, 0 shape mismatches, \d+ ignored; loaded 100\.0% /,
  forward: /^wrote features_0\.npy \[1, \d+, \d+, \d+\]/,
  detect: /^(\[|┌)/,
  'make-dataset': /^wrote data\/shapes: 4 train \+ 2 val images/,
  finetune: /^finished 2 iterations; bbox_mAP \d/,
  eval: /^ Average Precision {2}\(AP\) @\[ IoU=0\.50:0\.95/,
  export: /^wrote \S+: /,
  doctor: /^TF\.js backends, in the order `--backend auto` tries them:$/,
  demo: /^demo finished in \d+ s$/,
};

test("the README's set-up, every Usage line and the bad inputs, as a newcomer meets them", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  // Set-up: `npm ci` installs and builds (this checkout is installed and built: the test runs it);
  // `npm test` runs this test; `npm run demo` runs, shortened to one epoch on a few images.
  const setup = shellBlock('Set-up');
  assert.deepEqual(setup, ['npm ci && npm run demo', 'npm test']);
  assert.equal(pkg.scripts.demo, 'node bin/torchport.js demo');
  const demo = torchport(['demo', '--out', 'demo', '--train', '4', '--val', '2', '--epochs', '1']);
  assert.equal(demo.code, 0, demo.stderr);
  assert.match(demo.stdout.split('\n')[0], FIRST_LINE.demo);
  // the demo ends with the command that runs its detector on one's own image
  const ownImage = /^ {2}torchport (detect \S+) YOUR_IMAGE\.png (--out \S+)$/m.exec(demo.stdout);
  assert.ok(ownImage, demo.stdout);

  // A picture of one's own, for the `detect` lines.
  assert.equal(torchport(['make-dataset', 'shapes', '--out', 'pictures', '--train', '1', '--val', '1']).code, 0);
  const picture = join('pictures', 'val', readdirSync(join(cwd, 'pictures', 'val'))[0]);
  const detected = torchport([...words(ownImage[1]), picture, ...words(ownImage[2])]);
  assert.equal(detected.code, 0, detected.stderr);
  assert.match(detected.stdout.split('\n')[0], FIRST_LINE.detect);
  const run = (): string => readdirSync(join(cwd, 'work_dirs'))[0];
  // README placeholders → what this test runs instead; repository paths made absolute.
  const substitute = (word: string): string => {
    if (word === 'mobilenetv3-large-1cd25616.pth') return join(ROOT, 'fixtures/mobilenetv3/dli14_large.pth');
    if (word === 'frcnn.pth') return join(ROOT, 'fixtures/fasterrcnn/model.pth');
    if (word === 'x.npy') return join(ROOT, 'fixtures/mobilenetv3/input.npy');
    if (word === 'street.jpg') return picture;
    if (/^(assets|configs)\//.test(word)) return join(ROOT, word);
    if (word === 'CFG') return join('work_dirs', run(), 'config.json');
    return word.replace(/^work_dirs\/RUN\//, () => `work_dirs/${run()}/`);
  };

  const usage = shellBlock('Usage');
  const ran = new Set<string>();
  for (const line of usage) {
    if (line === 'npm run demo:web') {
      // serves a page until stopped; the exported GraphModel it loads is the `export --format graph-model` line
      assert.ok(pkg.scripts['demo:web'], 'package.json has a demo:web script');
      continue;
    }
    const [program, command, ...rest] = words(line);
    assert.equal(program, 'torchport', `a Usage line this test does not know: ${line}`);
    const args = [command, ...rest.map(substitute)];
    // few iterations and images: a newcomer's path, not a benchmark
    if (command === 'finetune') args.splice(args.indexOf('--max-iters'), 2, '--max-iters', '2');
    if (command === 'make-dataset') args.push('--train', '4', '--val', '2');
    const r = torchport(args);
    assert.equal(r.code, 0, `${line}\n${r.stderr}`);
    assert.ok(FIRST_LINE[command], `no expected first line for '${command}' (${line})`);
    assert.match(r.stdout.split('\n')[0], FIRST_LINE[command], line);
    if (command === 'features') assert.match(r.stdout, /→ inChannels \[24, 40, 80, 160\]/, 'the README says these inChannels');
    if (line.includes('--json')) JSON.parse(r.stdout);
    ran.add(command);
  }
  assert.ok(ran.size >= 10, `the Usage block was read: ${[...ran].join(', ')}`);

  // The bad inputs: exit 2 (detect: 1, having reported the images it could read) and a first line
  // that says what is wrong, in words.
  const badSyntax = join(cwd, 'bad-syntax.js');
  writeFileSync(badSyntax, 'export default {\n  seed: [1 2],\n};\n');
  const checkpoint = join(ROOT, 'fixtures/mobilenetv3/dli14_large.pth');
  const demoConfig = join(ROOT, 'configs/faster-rcnn_mobilenetv3-large-320-fpn_shapes-demo.js');
  const best = join('work_dirs', run(), 'best');
  const bad: Array<[string[], string | RegExp, number?]> = [
    [['convert', checkpoint, '--out', 'typo', '--set', 'widhtMult=0.5'], /^torchport: --set widhtMult: unknown model option; did you mean widthMult\? \(known: /],
    [['diff', checkpoint, '--set', 'widthMult=abc'], 'torchport: --set widthMult=abc: widthMult must be a number'],
    [['finetune', '--config', demoConfig, '--cfg-options', 'trainCfg.valInterval=0'], 'torchport: --cfg-options trainCfg.valInterval: expected an integer >= 1, got 0'],
    [['finetune', '--config', 'pictures'], `torchport: ${join(cwd, 'pictures')}: is a directory, not a config file (.js, .mjs, .cjs or .json)`],
    [['eval', '--config', demoConfig, '--checkpoint', 'MISSING'], 'torchport: MISSING: no such folder'],
    [['eval', '--config', badSyntax, '--checkpoint', best], `torchport: ${badSyntax}:2:12: syntax error: Unexpected number`],
    [['eval', '--config', demoConfig, '--checkpoint', best, '--data', 'data/shapes'], /^torchport: \S+model\.json: weight \S+ has shape \[[\d, ]+\], the model expects \[[\d, ]+\]; it was trained with \S+config\.json: pass that as --config$/],
    [['inspect', 'missing.pth'], 'torchport: missing.pth: no such file'],
    [['inspect'], 'torchport: missing <file>'],
    [['convert', checkpoint, '--outt', 'x'], 'torchport: unknown option --outt (did you mean --out?)'],
    [['conver', checkpoint], /^torchport: unknown command 'conver' \(did you mean convert\?\)/],
    [['make-dataset', 'shapes', '--out', join(picture, 'x')], `torchport: ${picture}: is a file, not a folder`],
    [['detect', 'det', 'street.jpg'], 'torchport: street.jpg: cannot read the image (no such file or folder)', 1],
  ];
  for (const [args, first, code = 2] of bad) {
    const r = torchport(args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    // (eval says which backend it runs on before it reads the weights)
    const line = r.stderr.split('\n').find((l) => !l.startsWith('backend: '));
    if (typeof first === 'string') assert.equal(line, first);
    else assert.match(line ?? '', first);
    assert.doesNotMatch(r.stderr, /\bE[A-Z]{3,}\b|\n\s+at /, 'no system error code, no stack trace');
    assert.equal(r.stdout, '');
  }
});
