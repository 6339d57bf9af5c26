// What a person sees when something is wrong or when asking for help: yargs' own messages in
// torchport's words with the usage line, no raw system error codes, config and checkpoint paths
// named for what they are, examples in every --help, and colour only at a terminal without NO_COLOR.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { paint } from '../../src/cli/colour.js';
import { systemCodesInWords, systemErrorLine } from '../../src/errors.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'torchport.js');
const CONFIG = 'configs/faster-rcnn_mobilenetv3-large-320-fpn_shapes-demo.js';
const torchport = (...args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, NO_COLOR: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const tmp = mkdtempSync(join(tmpdir(), 'torchport-messages-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const COMMANDS = ['inspect', 'diff', 'convert', 'export', 'features', 'forward', 'make-dataset', 'detect', 'eval', 'finetune', 'demo', 'doctor'];

test("yargs' own messages: torchport's words, the command's usage line, exit 2", () => {
  const cases: Array<[string[], string]> = [
    [['inspect'], 'torchport: missing <file>\nusage: torchport inspect <file> [options]; see torchport inspect --help\n'],
    [['inspect', 'a.pth', 'b.pth'], "torchport: unexpected argument 'b.pth'\nusage: torchport inspect <file> [options]; see torchport inspect --help\n"],
    [['convert', 'x.pth', '--outt', 'y'], 'torchport: unknown option --outt (did you mean --out?)\nusage: torchport convert <checkpoint> [options]; see torchport convert --help\n'],
    [['finetune'], 'torchport: missing --config\nusage: torchport finetune --config <config> [options]; see torchport finetune --help\n'],
    [['eval', '--config', 'x.js'], 'torchport: missing --checkpoint\nusage: torchport eval --config <config> --checkpoint <checkpoint> [options]; see torchport eval --help\n'],
    [['detect'], 'torchport: missing <model> and <images..>\nusage: torchport detect <model> <images..> [options]; see torchport detect --help\n'],
    [['make-dataset', 'circles', '--out', 'x'], 'torchport: <kind> must be one of shapes, got "circles"\nusage: torchport make-dataset <kind> --out <out> [options]; see torchport make-dataset --help\n'],
    [['forward', 'd', '--input', 'x.npy', '--out', 'o', '--backend', 'gpu'], 'torchport: --backend must be one of auto, tensorflow, webgpu, wasm, cpu, got "gpu"\nusage: torchport forward <dir> --input <input> --out <out> [options]; see torchport forward --help\n'],
    [['conver', 'x.pth'], `torchport: unknown command 'conver' (did you mean convert?); the commands are ${COMMANDS.join(', ')}\nusage: torchport <command> [options]; see torchport --help\n`],
    [[], `torchport: name a command: ${COMMANDS.join(', ')}\nusage: torchport <command> [options]; see torchport --help\n`],
  ];
  for (const [args, message] of cases) {
    const r = torchport(...args);
    assert.equal(r.stderr, message, args.join(' '));
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.stdout, '');
  }
});

test('a number option given something else says so (yargs would pass NaN on)', () => {
  const cases: Array<[string[], string]> = [
    [['make-dataset', 'shapes', '--out', join(tmp, 'never'), '--train', 'abc'], "torchport: --train expects a number, got 'abc'\n"],
    [['detect', 'det', 'a.png', '--score-threshold=high'], "torchport: --score-threshold expects a number, got 'high'\n"],
  ];
  for (const [args, message] of cases) {
    const r = torchport(...args);
    assert.equal(r.stderr, message, args.join(' '));
    assert.equal(r.code, 2, args.join(' '));
  }
  assert.equal(existsSync(join(tmp, 'never')), false);
});

test('paths named for what they are: a config folder, a missing checkpoint folder, a file where a folder should be', () => {
  const file = join(tmp, 'a-file');
  writeFileSync(file, 'x');
  const cases: Array<[string[], string]> = [
    [['finetune', '--config', 'configs'], `torchport: ${join(ROOT, 'configs')}: is a directory, not a config file (.js, .mjs, .cjs or .json)\n`],
    [['eval', '--config', 'configs', '--checkpoint', 'fixtures'], `torchport: ${join(ROOT, 'configs')}: is a directory, not a config file (.js, .mjs, .cjs or .json)\n`],
    [['eval', '--config', CONFIG, '--checkpoint', join(tmp, 'MISSING')], `torchport: ${join(tmp, 'MISSING')}: no such folder\n`],
    [['make-dataset', 'shapes', '--out', join(file, 'data'), '--train', '1', '--val', '1'], `torchport: ${file}: is a file, not a folder\n`],
    [['convert', 'fixtures/mobilenetv3/tv_small.pth', '--out', join(file, 'out')], `torchport: ${file}: is a file, not a folder\n`],
    [['inspect', 'fixtures/mobilenetv3'], 'torchport: fixtures/mobilenetv3: is a directory, not a checkpoint file\n'],
  ];
  for (const [args, message] of cases) {
    const r = torchport(...args);
    assert.equal(r.stderr, message, args.join(' '));
    assert.equal(r.code, 2, args.join(' '));
    assert.doesNotMatch(r.stderr, /\bE[A-Z]{3,}\b/);
  }
  assert.equal(existsSync(join(file, 'out')), false);
});

test('a config: a syntax error gives file:line:column; a bad --cfg-options value names the command line', () => {
  const bad = join(tmp, 'bad.js');
  writeFileSync(bad, 'export default {\n  model: {},\n  seed: [1 2],\n};\n');
  let r = torchport('eval', '--config', bad, '--checkpoint', 'fixtures');
  assert.equal(r.stderr, `torchport: ${bad}:3:12: syntax error: Unexpected number\n`);
  assert.equal(r.code, 2);
  r = torchport('eval', '--config', CONFIG, '--checkpoint', 'fixtures', '--cfg-options', 'trainCfg.valInterval=0');
  assert.equal(r.stderr, 'torchport: --cfg-options trainCfg.valInterval: expected an integer >= 1, got 0\n');
  assert.equal(r.code, 2);
});

test('system error codes become words', () => {
  assert.equal(systemCodesInWords('model.pth: cannot read (EACCES)'), 'model.pth: cannot read (permission denied)');
  assert.equal(systemCodesInWords("ENOENT: no such file or directory, open 'x'"), "no such file or folder, open 'x'");
  assert.equal(systemCodesInWords('EXIF data'), 'EXIF data');
  const err = Object.assign(new Error("EACCES: permission denied, open '/x/y'"), { code: 'EACCES', syscall: 'open', path: '/x/y' });
  assert.equal(systemErrorLine(err), '/x/y: permission denied');
  assert.equal(systemErrorLine(new Error('not a system error')), undefined);
});

test('every command has examples in its --help, and so has torchport --help', () => {
  for (const name of ['', ...COMMANDS]) {
    const r = torchport(...(name ? [name, '--help'] : ['--help']));
    assert.equal(r.code, 0, name);
    const examples = r.stdout.split('\nExamples:\n')[1];
    assert.ok(examples, `${name} --help has no examples`);
    for (const line of examples.trimEnd().split('\n')) assert.match(line, new RegExp(`^ {2}torchport ${name || '\\S+'}( .*)? {2,}# \\S`), `${name}: ${line}`);
  }
});

test('colour: only on a TTY, never with NO_COLOR or TERM=dumb', () => {
  assert.equal(paint({ isTTY: true }, {}).red('x'), '\x1b[31mx\x1b[39m');
  assert.equal(paint({ isTTY: true }, { NO_COLOR: '1' }).red('x'), 'x');
  assert.equal(paint({ isTTY: true }, { TERM: 'dumb' }).red('x'), 'x');
  assert.equal(paint({ isTTY: false }, {}).red('x'), 'x');
  assert.equal(paint({}, {}).green('x'), 'x');
});

test('colour in the CLI: red at a terminal, plain with NO_COLOR and when piped', (t) => {
  if (spawnSync('script', ['--version']).status !== 0) {
    t.skip('needs util-linux `script` to run the CLI on a pseudo-terminal');
    return;
  }
  const atTerminal = (noColor: string) => spawnSync('script', ['-qec', `${process.execPath} ${BIN} inspect nope.pth`, '/dev/null'], {
    encoding: 'utf8', cwd: ROOT, env: { ...process.env, NO_COLOR: noColor, TERM: 'xterm' },
  }).stdout;
  assert.equal(atTerminal(''), '\x1b[31mtorchport:\x1b[39m nope.pth: no such file\r\n');
  assert.equal(atTerminal('1'), 'torchport: nope.pth: no such file\r\n');
  assert.equal(torchport('inspect', 'nope.pth').stderr, 'torchport: nope.pth: no such file\n');
});
