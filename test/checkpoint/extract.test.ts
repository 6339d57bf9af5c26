// extractStateDict/selectPrefix: which dict holds the weights, prefix stripping, metadata — checked
// against torch's own consume_prefix_in_state_dict_if_present (recorded by gen_checkpoints.py).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../../src/errors.js';
import { extractStateDict, selectPrefix } from '../../src/checkpoint/extract.js';
import { readCheckpoint } from '../../src/checkpoint/read.js';
import { expected, fixture } from './helpers.js';

for (const name of ['wrap_state_dict', 'wrap_model_p4', 'wrap_model_p1_legacy', 'dataparallel_legacy', 'dataparallel_in_state_dict', 'parameters', 'detector']) {
  test(`${name}.pth: picks and unwraps the state dict like torch`, () => {
    const exp = expected(name).extract!;
    const got = extractStateDict(readCheckpoint(fixture(`${name}.pth`)).object);
    assert.equal(got.source, exp.source);
    assert.equal(got.strippedPrefix, exp.strippedPrefix ?? undefined);
    assert.deepEqual([...got.stateDict.keys()], exp.keys);
    assert.deepEqual(Object.fromEntries(got.metadata), exp.metadata);
  });
}

test('stripping module. is reported with the key count', () => {
  const got = extractStateDict(readCheckpoint(fixture('dataparallel_legacy.pth')).object);
  assert.deepEqual(got.notes, ["stripped 'module.' from all 10 keys (DataParallel)"]);
  const kept = extractStateDict(readCheckpoint(fixture('dataparallel_legacy.pth')).object, { stripPrefix: false });
  assert.equal([...kept.stateDict.keys()][0], 'module.stem.0.weight');
});

test('non-tensor entries are skipped and named; tensors keep their identity', () => {
  const { object } = readCheckpoint(fixture('dtypes.pth'));
  const got = extractStateDict(object);
  assert.equal(got.source, 'raw');
  assert.equal(got.stateDict.get('f32'), (object as Map<string, unknown>).get('f32'));
});

test('--key picks a sub-dict; the only dict of tensors is found; two are ambiguous', () => {
  const { object } = readCheckpoint(fixture('two_candidates.pth'));
  assert.throws(() => extractStateDict(object, { file: 'x.pth' }),
    new InputError('holds several dicts of tensors (net, ema); choose one with --key', 'x.pth'));
  const ema = extractStateDict(object, { key: 'ema' });
  assert.equal(ema.source, 'ema');
  assert.equal(ema.stateDict.size, 10);
  assert.throws(() => extractStateDict(object, { key: 'nope' }), { message: "has no top-level key 'nope' (keys: net, ema, epoch)" });
  assert.throws(() => extractStateDict(object, { key: 'epoch' }), { message: "'epoch' holds a int 3, not a state dict" });
  const single = new Map<unknown, unknown>([['net', (object as Map<string, unknown>).get('net')], ['epoch', 1]]);
  const got = extractStateDict(single);
  assert.equal(got.source, 'net');
  assert.deepEqual(got.notes, ["took 'net', the only top-level dict of tensors"]);
});

test('an explicit prefix must be carried by every key; selectPrefix takes a sub-tree', () => {
  const { stateDict } = extractStateDict(readCheckpoint(fixture('detector.pth')).object);
  assert.throws(() => extractStateDict(readCheckpoint(fixture('detector.pth')).object, { stripPrefix: 'backbone' }),
    { message: "cannot strip 'backbone.': only 10 of 12 keys start with it (use selectPrefix to take a sub-tree)" });
  const body = selectPrefix(stateDict, 'backbone.body');
  assert.deepEqual([...body.keys()], expected('wrap_state_dict').extract!.keys);
  assert.equal(body.get('head.bias'), stateDict.get('backbone.body.head.bias'));
  assert.throws(() => selectPrefix(stateDict, 'neckk', 'd.pth'),
    new InputError("no keys start with 'neckk.' (top-level names: backbone, neck, roi_head)", 'd.pth'));
});

test('objects that are not state dicts get a clear error', () => {
  assert.throws(() => extractStateDict(new Map([['epoch', 3]])), { message: "holds no state dict: no 'state_dict' or 'model' entry and no tensors (keys: epoch)" });
  assert.throws(() => extractStateDict([1, 2]), { message: 'holds a list/tuple (2 items), not a state dict' });
  assert.throws(() => extractStateDict(new Map([['model', 5]])), { message: "'model' holds a int 5, not a state dict" });
});
