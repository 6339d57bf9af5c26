// The mapping engine on hand-written specs and mapping files: resolution order, conditions,
// includes, layouts decided by the target kind, ambiguity, unused rules, load-time errors, detection.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { InputError } from '../../src/errors.js';
import { detectMapping, type DescribeModel } from '../../src/mapping/detect.js';
import { loadMapping } from '../../src/mapping/load.js';
import { applyPlan } from '../../src/mapping/apply.js';
import { planMapping, type SourceSpec } from '../../src/mapping/plan.js';
import type { StateDict } from '../../src/checkpoint/types.js';
import type { ParamSpec } from '../../src/mapping/params.js';

const dir = mkdtempSync(join(tmpdir(), 'torchport-mapping-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, json: unknown): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, typeof json === 'string' ? json : JSON.stringify(json));
  return path;
}

const spec = (name: string, shape: number[], kind: ParamSpec['kind']): ParamSpec => ({ name, shape, kind, trainable: true });
const src = (key: string, shape: number[], dtype: SourceSpec['dtype'] = 'float32'): SourceSpec => ({ key, shape, dtype });

// A toy two-block net: block 1 has an expansion conv, block 2 does not.
const specs: ParamSpec[] = [
  spec('features.1.expand.conv.weight', [1, 1, 4, 8], 'conv2d'),
  spec('features.1.dw.conv.weight', [3, 3, 8, 1], 'depthwise'),
  spec('features.2.dw.conv.weight', [3, 3, 4, 1], 'depthwise'),
  spec('features.2.se.fc1.weight', [4, 2], 'dense'),
  spec('head.weight', [6, 3], 'dense'),
  spec('head.bias', [3], 'vector'),
];

file('toy', {
  model: 'toy',
  tables: { first: { '0': 'expand.conv' } },
  ignore: [{ id: 'counter', from: '\\.num_batches_tracked$', reason: 'not a weight' }],
  rules: [
    { id: 'expand', from: '^f\\.(?<i>\\d+)\\.(?<k>\\d+)\\.weight$', ifTarget: 'features.{i}.expand.conv.weight', to: 'features.{i}.{first[k]}.weight' },
    { id: 'dw', from: '^f\\.(?<i>\\d+)\\.(?<k>\\d+)\\.weight$', to: 'features.{i}.dw.conv.weight' },
    { id: 'se', from: '^f\\.(?<i>\\d+)\\.se\\.weight$', to: 'features.{i}.se.fc1.weight' },
    { id: 'head', from: '^fc\\.(?<p>weight|bias)$', to: 'head.{p}' },
    { id: 'never', from: '^nothing$', to: 'head.bias' },
  ],
});

test('ignore, conditions, fall-through on a table miss, layouts by target kind, unused rules', () => {
  const m = loadMapping(join(dir, 'toy.json'));
  const plan = planMapping([
    src('f.1.0.weight', [8, 4, 1, 1]), // expand (block 1 has one)
    src('f.1.1.weight', [8, 1, 3, 3]), // 'first' has no '1': falls through to dw
    src('f.2.0.weight', [4, 1, 3, 3]), // block 2 has no expand: dw
    src('f.2.se.weight', [2, 4, 1, 1]), // 1x1 conv into a dense parameter
    src('f.2.1.num_batches_tracked', [], 'int64'),
    src('fc.weight', [3, 6]), // Linear into dense
    src('fc.bias', [3], 'int64'),
    src('f.9.0.weight', [1, 1, 1, 1]), // renamed to a parameter the model lacks
    src('stray', [2]),
  ], specs, m, 'toy');
  assert.deepEqual(plan.matched.map((e) => [e.source, e.target, e.rule, e.shape]), [
    ['f.1.0.weight', 'features.1.expand.conv.weight', 'toy/expand', [1, 1, 4, 8]],
    ['f.1.1.weight', 'features.1.dw.conv.weight', 'toy/dw', [3, 3, 8, 1]],
    ['f.2.0.weight', 'features.2.dw.conv.weight', 'toy/dw', [3, 3, 4, 1]],
    ['f.2.se.weight', 'features.2.se.fc1.weight', 'toy/se', [4, 2]],
    ['fc.weight', 'head.weight', 'toy/head', [6, 3]],
  ]);
  assert.deepEqual(plan.ignored, [{ source: 'f.2.1.num_batches_tracked', shape: [], rule: 'toy/counter', reason: 'not a weight' }]);
  assert.deepEqual(plan.mismatched.map((e) => [e.source, e.target, e.convertedShape, e.reason]), [
    ['fc.bias', 'head.bias', [3], 'dtype int64 cannot load into a float32 parameter'],
  ]);
  assert.deepEqual(plan.unexpected, [
    { source: 'f.9.0.weight', shape: [1, 1, 1, 1], dtype: 'float32', rule: 'toy/dw', target: 'features.9.dw.conv.weight' },
    { source: 'stray', shape: [2], dtype: 'float32' },
  ]);
  assert.deepEqual(plan.missing, []);
  assert.deepEqual(plan.unusedRules, ['toy/never']);
  assert.equal(plan.loadedElements, 32 + 72 + 36 + 8 + 18);
  assert.equal(plan.totalElements, 32 + 72 + 36 + 8 + 18 + 3);
});

test('a Linear head of the wrong size is a shape mismatch, and a target claimed twice is a conflict', () => {
  const m = loadMapping(join(dir, 'toy.json'));
  const plan = planMapping([src('fc.weight', [3, 5]), src('fc.bias', [3]), src('nothing', [3])], specs, m, 'toy');
  assert.deepEqual(plan.mismatched.map((e) => [e.target, e.convertedShape, e.expectedShape, e.reason]), [
    ['head.weight', [5, 3], [6, 3], "converted shape [5, 3] differs from the model's [6, 3]"],
  ]);
  assert.deepEqual(plan.conflicts, [{ target: 'head.bias', sources: ['fc.bias', 'nothing'], rules: ['toy/head', 'toy/never'] }]);
  assert.deepEqual(plan.matched, []);
  assert.deepEqual(plan.missing.map((e) => e.target), ['features.1.expand.conv.weight', 'features.1.dw.conv.weight', 'features.2.dw.conv.weight', 'features.2.se.fc1.weight']);
});

test('include: a prefixed sub-tree resolved by another mapping, targets prefixed, outer ignore first', () => {
  file('nest', {
    model: 'det',
    ignore: [{ id: 'heads', from: '^rpn\\.', reason: 'detector head' }],
    include: [{ mapping: 'toy', sourcePrefix: 'backbone.body.', replaceWith: 'f.', targetPrefix: 'backbone.' }],
    rules: [{ id: 'cls', from: '^cls\\.weight$', to: 'cls.weight' }],
  });
  const m = loadMapping(join(dir, 'nest.json'));
  const detSpecs = [...specs.map((s) => ({ ...s, name: `backbone.${s.name}` })), spec('cls.weight', [2, 2], 'dense')];
  const plan = planMapping([
    src('backbone.body.1.0.weight', [8, 4, 1, 1]),
    src('backbone.body.2.se.weight', [2, 4]),
    src('backbone.body.1.1.num_batches_tracked', [], 'int64'),
    src('rpn.conv.weight', [2, 2, 3, 3]),
    src('cls.weight', [2, 2]),
  ], detSpecs, m, 'det');
  assert.deepEqual(plan.matched.map((e) => [e.target, e.rule]), [
    ['backbone.features.1.expand.conv.weight', 'toy/expand'],
    ['backbone.features.2.se.fc1.weight', 'toy/se'],
    ['cls.weight', 'nest/cls'],
  ]);
  assert.deepEqual(plan.ignored.map((e) => e.rule), ['toy/counter', 'nest/heads']);
  assert.deepEqual(plan.unusedRules, ['toy/dw', 'toy/head', 'toy/never']);
});

test('mapping files are checked when loaded, with the file and the problem named', () => {
  const cases: Array<[unknown, string]> = [
    ['{ nope', 'not valid JSON'],
    [{ model: 'x', rules: [{ id: 'a', from: '^a$', to: 'b', typo: 1 }] }, "rules 'a' has an unknown field 'typo' (allowed: id, from, to, ifTarget, unlessTarget, note, kernel)"],
    [{ model: 'x', rules: [{ id: 'a', from: '(', to: 'b' }] }, "rules 'a'.from: invalid regular expression /(/: Invalid regular expression: /(/: Unterminated group"],
    [{ model: 'x', rules: [{ id: 'a', from: '^(?<i>\\d+)$', to: 'b.{j}' }] }, "rules 'a'.to: '{j}' is neither a capture of 'from' nor a table"],
    [{ model: 'x', rules: [{ id: 'a', from: '^a$', to: 'b' }, { id: 'a', from: '^c$', to: 'd' }] }, "rule id 'a' is used twice"],
    [{ model: 'x', rulez: [] }, "the mapping file has an unknown field 'rulez' (allowed: description, source, model, targets, modelOptions, infer, fingerprint, tables, ignore, rules, include)"],
    [{ model: 'x' }, 'the mapping has no rules, ignore entries or includes'],
    [{ model: 'x', include: [{ mapping: 'cycle' }] }, 'include cycle: cycle.json → cycle.json'],
  ];
  for (const [json, message] of cases) {
    const path = file('cycle', json);
    assert.throws(() => loadMapping(path), (e: Error) => e instanceof InputError && e.message.startsWith(`${path}: ${message}`), message);
  }
  assert.throws(() => loadMapping('no-such-mapping', [dir]), (e: Error) => e instanceof InputError && e.message.startsWith("unknown mapping 'no-such-mapping' (known: "));
});

test('detection: fingerprints gate, candidates are searched, the best loads most; forcing skips the fingerprint', () => {
  file('toy-b', {
    model: 'toy',
    fingerprint: { requires: ['^g\\.'] },
    infer: { width: { candidates: [1, 2] } },
    rules: [{ id: 'all', from: '^g\\.(?<i>\\d+)$', to: 'p.{i}' }],
  });
  const describe: DescribeModel = (model, options) => {
    if (model !== 'toy') throw new InputError(`unknown model '${model}'`);
    const w = options.width as number;
    return { specs: [spec('p.0', [4 * w], 'vector'), spec('p.1', [2 * w], 'vector')], featureInfo: [] };
  };
  const toy = loadMapping(join(dir, 'toy.json'));
  const toyB = loadMapping(join(dir, 'toy-b.json'));
  const sources = [src('g.0', [8]), src('g.1', [4])];
  const d = detectMapping(sources, [toy, toyB], describe);
  assert.equal(d.best.mapping.name, 'toy-b');
  assert.deepEqual(d.best.options, { width: 2 });
  assert.equal(d.best.score, 1.01);
  assert.deepEqual(d.ranked.map((r) => [r.mapping, r.loadedShare, r.unexpected]), [['toy-b', 1, 0], ['toy', 0, 2]]);
  const forced = detectMapping(sources, [toy], () => ({ specs, featureInfo: [] }), { forced: true });
  assert.equal(forced.forced, true);
  assert.equal(forced.best.plan.unexpected.length, 2);
});

test('applyPlan widens float64 / bfloat16 / float16 sources and permutes into the target layout', () => {
  const m = loadMapping(join(dir, 'toy.json'));
  const stateDict: StateDict = new Map([
    // [out 8, in 4, 1, 1] float64 → HWIO [1, 1, 4, 8]
    ['f.1.0.weight', { dtype: 'float64', shape: [8, 4, 1, 1], data: Float64Array.from({ length: 32 }, (_, i) => i + 0.25) }],
    // bfloat16 0x3fc0 = 1.5, float16 0x3e00 = 1.5
    ['fc.bias', { dtype: 'bfloat16', shape: [3], data: Uint16Array.from([0x3fc0, 0xbfc0, 0]) }],
    ['fc.weight', { dtype: 'float16', shape: [3, 6], data: new Uint16Array(18).fill(0x3e00) }],
  ]);
  const sources = [...stateDict].map(([key, t]) => ({ key, shape: t.shape, dtype: t.dtype }));
  const plan = planMapping(sources, specs, m, 'toy');
  const out = applyPlan(plan, stateDict, specs.map((s) => s.name));
  assert.deepEqual(out.map((w) => [w.name, w.shape]), [['features.1.expand.conv.weight', [1, 1, 4, 8]], ['head.weight', [6, 3]], ['head.bias', [3]]]);
  const kernel = out[0].data;
  for (let o = 0; o < 8; o++) for (let i = 0; i < 4; i++) assert.equal(kernel[i * 8 + o], o * 4 + i + 0.25);
  assert.deepEqual([...out[1].data], new Array(18).fill(1.5));
  assert.deepEqual([...out[2].data], [1.5, -1.5, 0]);
});
