// The emitted graphs use only ops of the graph executor of the pinned tfjs-converter (its own op
// list files), and bad input is refused before anything is written: a folder that is not a model
// folder, an output folder holding something else, a model needing an op the executor lacks (a
// plugin backbone). Adaptive RoIAlign sampling adds Ceil and SparseSegmentMean to the graph.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import { selectBackend } from '../../src/backend/select.js';
import { InputError } from '../../src/errors.js';
import { exportGraphModel, SUPPORTED_OPS, UnsupportedOpError } from '../../src/export/graph-model/index.js';
import { readTfjsWeights, writeTfjsWeights } from '../../src/io/tfjs-weights.js';
import { convertCheckpoint } from '../../src/models/convert.js';
import { FIXTURE } from '../models/faster-rcnn/helpers.js';
import { writeVariantFolder } from './graph-model-helpers.js';
import { GraphBuilder } from '../../src/export/graph-model/graph.js';
import { backbones } from '../../src/models/backbones/registry.js';

const work = mkdtempSync(join(tmpdir(), 'torchport-graph-ops-'));
const model = join(work, 'model');
let executorOps: Set<string>;

/** Every tfOpName in tfjs-converter's op list files (what its graph executor runs). */
async function converterOps(): Promise<Set<string>> {
  const root = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-converter/package.json'));
  const dir = join(root, 'dist', 'operations', 'op_list');
  const names = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
    const { json } = (await import(pathToFileURL(join(dir, file)).href)) as { json: Array<{ tfOpName: string }> };
    for (const op of json) names.add(op.tfOpName);
  }
  return names;
}

before(async () => {
  await selectBackend('wasm');
  executorOps = await converterOps();
  assert.ok((await convertCheckpoint(join(FIXTURE, 'model.pth'), model, { model: 'fasterrcnn_mobilenet_v3_large_320_fpn' })).written);
});

after(() => rmSync(work, { recursive: true, force: true }));

test('the op list torchport may emit is within tfjs-converter 4.22\'s graph executor', () => {
  assert.ok(executorOps.size > 200, `read ${executorOps.size} ops`);
  const missing = [...SUPPORTED_OPS].filter((op) => !executorOps.has(op));
  assert.deepEqual(missing, []);
});

test('every op of an exported detector graph is one the executor runs', async () => {
  const out = join(work, 'graph');
  const result = await exportGraphModel(model, out);
  const graph = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')).modelTopology;
  const ops = new Set<string>(graph.node.map((n: { op: string }) => n.op));
  assert.deepEqual([...ops].sort(), result.ops);
  assert.deepEqual([...ops].filter((op) => !executorOps.has(op)), []);
  for (const op of ['CropAndResize', 'NonMaxSuppressionV3', 'TopKV2', 'ResizeBilinear', 'MirrorPad']) assert.ok(ops.has(op), op);
});

test('every op of a detector graph with adaptive RoIAlign sampling is one the executor runs', async () => {
  const adaptive = writeVariantFolder(model, join(work, 'adaptive'), (c) => ({ ...c, roiHead: { ...c.roiHead, samplingRatio: 0 } }));
  const result = await exportGraphModel(adaptive, join(work, 'adaptive-graph'));
  for (const op of ['Ceil', 'SparseSegmentMean', 'CropAndResize']) assert.ok(result.ops.includes(op), op);
  assert.deepEqual(result.ops.filter((op) => !executorOps.has(op)), []);
});

test('exporting again replaces the output atomically (no temporary folder left)', async () => {
  const out = join(work, 'graph');
  writeFileSync(join(out, 'stale.txt'), 'old');
  await exportGraphModel(model, out);
  assert.ok(!existsSync(join(out, 'stale.txt')));
  assert.deepEqual(readdirSync(work).filter((f) => f.startsWith('.')), []);
});

test('bad input: not a model folder, an output holding something else', async () => {
  const bare = join(work, 'bare');
  mkdirSync(bare);
  writeTfjsWeights(bare, readTfjsWeights(model).weights.slice(0, 2), { format: 'x', generatedBy: 'x', convertedBy: 'x' });
  await assert.rejects(exportGraphModel(bare, join(work, 'o1')), (e: Error) => e instanceof InputError && /no torchport metadata/.test(e.message));
  await assert.rejects(exportGraphModel(join(work, 'nothing'), join(work, 'o2')), (e: Error) => e instanceof InputError && /no model\.json here/.test(e.message));
  const busy = join(work, 'busy');
  mkdirSync(busy);
  writeFileSync(join(busy, 'notes.txt'), 'mine');
  await assert.rejects(exportGraphModel(model, busy), (e: Error) => e instanceof InputError && /exists and is not a model folder/.test(e.message));
  assert.deepEqual(readdirSync(busy), ['notes.txt']);
  assert.ok(!existsSync(join(work, 'o1')) && !existsSync(join(work, 'o2')));
});

test('a model that needs an op the executor lacks (a plugin backbone with no graph builder): the op and the layer named, nothing written', async () => {
  // a backbone registered by a plugin: it runs in torchport, but the exporter has no graph for it
  backbones.register('plugin_backbone', (opts: Record<string, unknown>) => new Proxy(backbones.get('mobilenetv3_large')(opts), { has: (t, k) => k !== 'layout' && Reflect.has(t, k) }));
  const plugin = writeVariantFolder(model, join(work, 'plugin'), (c) => ({ ...c, backbone: { ...c.backbone, type: 'plugin_backbone' } }));
  const out = join(work, 'plugin-graph');
  await assert.rejects(exportGraphModel(plugin, out), (e: Error) => {
    assert.ok(e instanceof UnsupportedOpError);
    assert.equal(e.op, "a graph builder for backbone 'plugin_backbone'");
    assert.equal(e.layer, 'backbone');
    assert.equal(e.message, "backbone: needs the op a graph builder for backbone 'plugin_backbone', which the TF.js graph executor (tfjs-converter 4.22) lacks");
    return true;
  });
  assert.ok(!existsSync(out));
});

test('the emitter refuses an op outside the list as it builds, naming the op and the layer', () => {
  const g = new GraphBuilder();
  assert.throws(() => g.scope('roi_head', () => g.scope('fc6', () => g.op('Einsum', []))), {
    message: 'roi_head/fc6: needs the op Einsum, which the TF.js graph executor (tfjs-converter 4.22) lacks',
  });
});
