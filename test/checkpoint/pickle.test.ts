// The pickle VM on streams CPython wrote (protocols 0-5) and on malformed ones.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeGlobalResolver } from '../../src/checkpoint/globals.js';
import { PickleError, unpickle } from '../../src/checkpoint/pickle.js';

// pickle.dumps({'a': [1, -2**40, 1.5, inf, 'xé\n'], 'b': (None, True, -2**70), 'c': b'\x00\x01'}, protocol=p)
const STREAMS: Record<number, string> = {
  0: '286470300a56610a70310a286c70320a49310a614c2d313039393531313632373737364c0a6146312e350a6146696e660a615678e95c75303030610a70330a617356620a70340a284e4930310a4c2d313138303539313632303731373431313330333432344c0a7470350a7356630a70360a635f636f646563730a656e636f64650a70370a28565c7530303030010a70380a566c6174696e310a70390a747031300a527031310a732e',
  1: '7d71002858010000006171015d7102284b014c2d313039393531313632373737364c0a473ff8000000000000477ff0000000000000580400000078c3a90a7103655801000000627104284e4930310a4c2d313138303539313632303731373431313330333432344c0a7471055801000000637106635f636f646563730a656e636f64650a71072858020000000001710858060000006c6174696e31710974710a52710b752e',
  2: '80027d71002858010000006171015d7102284b018a060000000000ff473ff8000000000000477ff0000000000000580400000078c3a90a71036558010000006271044e888a090000000000000000c08771055801000000637106635f636f646563730a656e636f64650a710758020000000001710858060000006c6174696e31710986710a52710b752e',
  3: '80037d71002858010000006171015d7102284b018a060000000000ff473ff8000000000000477ff0000000000000580400000078c3a90a71036558010000006271044e888a090000000000000000c08771055801000000637106430200017107752e',
  4: '8004954c000000000000007d94288c0161945d94284b018a060000000000ff473ff8000000000000477ff00000000000008c0478c3a90a94658c0162944e888a090000000000000000c087948c0163944302000194752e',
  5: '8005954c000000000000007d94288c0161945d94284b018a060000000000ff473ff8000000000000477ff00000000000008c0478c3a90a94658c0162944e888a090000000000000000c087948c0163944302000194752e',
};

const hooks = () => ({ resolveGlobal: makeGlobalResolver(false).resolve, persistentLoad: () => assert.fail('no persistent ids') });
const run = (hex: string) => unpickle(Buffer.from(hex, 'hex'), 0, hooks());

for (const [protocol, hex] of Object.entries(STREAMS)) {
  test(`protocol ${protocol}: values exactly as Python pickled them`, () => {
    const { value, protocol: p, end } = run(hex);
    assert.equal(p, Number(protocol));
    assert.equal(end, hex.length / 2);
    assert.deepEqual(value, new Map<unknown, unknown>([
      ['a', [1, -(2 ** 40), 1.5, Infinity, 'xé\n']],
      ['b', [null, true, -(2n ** 70n)]],
      ['c', new Uint8Array([0, 1])],
    ]));
  });
}

/** A stream written as a latin1 string: readable opcodes (`(` MARK, `K` BININT1, `.` STOP, ...). */
const op = (s: string) => unpickle(Buffer.from(s, 'latin1'), 0, hooks());

function failsWith(stream: string, message: string, offset: number): void {
  assert.throws(() => op(stream), (err: unknown) => {
    assert.ok(err instanceof PickleError, String(err));
    assert.equal(err.message, message);
    assert.equal(err.offset, offset);
    return true;
  });
}

test('malformed streams fail at the offending opcode with a clear message', () => {
  failsWith('\x80\x02h\x05.', 'memo entry 5 is missing', 2);
  failsWith('\x80\x02.', 'stack underflow', 2);
  failsWith('\x80\x02K\x01(K\x02e.', 'APPEND on a value that is not a list', 7);
  failsWith('\x80\x06', 'unsupported pickle protocol 6', 0);
  failsWith('\x80\x02K\x01K\x02R', 'REDUCE on a value that is not a class or function', 6);
  failsWith('\x80\x02X\x05\x00\x00\x00ab', 'truncated: needs 5 bytes, 2 left', 2);
  failsWith('\x80\x02N', 'truncated: no STOP opcode', 3);
  failsWith('\x80\x02\x82\x01', 'extension-registry opcodes (EXT) do not occur in checkpoints', 2);
  failsWith('\x80\x02ctorch._utils\n_rebuild_tensor_v2\nK\x01\x85R.', 'torch._utils._rebuild_tensor_v2: first argument is not a storage', 38);
});

test('nesting past 10,000 levels and more than 131,072 stack values are refused at once, whichever container builds them', () => {
  const deep = 10_001;
  // 10,001 nested 1-tuples: the 10,001st TUPLE1 fails
  failsWith(`\x80\x02N${'\x85'.repeat(deep)}.`, 'containers nested deeper than 10,000 levels', 2 + 1 + 10_000);
  // 10,002 lists appended each into the one below: the 10,001st APPEND fails
  failsWith(`\x80\x02${']'.repeat(deep + 1)}${'a'.repeat(deep)}.`, 'containers nested deeper than 10,000 levels', 2 + (deep + 1) + 10_000);
  // the push that takes the stack past the limit
  failsWith(`\x80\x02${']'.repeat((1 << 17) + 1)}.`, 'more than 131,072 values on the stack', 2 + (1 << 17));
  // what Python can write is far inside both limits: 1,000 levels of lists
  let value = op(`\x80\x02${']'.repeat(1000)}${'a'.repeat(999)}.`).value;
  let levels = 0;
  for (; Array.isArray(value); levels++) value = value[0];
  assert.equal(levels, 1000);
});

test('DICT, OBJ and negative LONG1/LONG4 (where pickleparser goes wrong)', () => {
  assert.deepEqual(op("(S'k'\nI1\nd.").value, new Map([['k', 1]]));
  assert.equal(op('\x80\x02\x8a\x01\xff.').value, -1);
  assert.equal(op('\x80\x02\x8b\x06\x00\x00\x00\x00\x00\x00\x00\x00\xff.').value, -(2 ** 40));
  const ns = op('(cargparse\nNamespace\no}U\x01xK\x01sb.').value as { className: string; attrs: Map<string, unknown> };
  assert.equal(ns.className, 'argparse.Namespace');
  assert.deepEqual(Object.fromEntries(ns.attrs), { x: 1 });
});
