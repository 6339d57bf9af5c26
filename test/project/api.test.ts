// The public API is deliberate: src/index.ts exports exactly the names below, docs/api.md documents
// every one of them, and its examples type-check against the package and run, in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drawShapesImage } from '../../src/data/shapes.js';
import { encodePng } from '../../src/io/image.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const INDEX = join(ROOT, 'src', 'index.ts');
const DOC = readFileSync(join(ROOT, 'docs', 'api.md'), 'utf8');

/** The values (functions, classes, constants, registries) the package exports, by area. */
const PUBLIC: Record<string, string[]> = {
  shared: ['InputError', 'InternalError', 'Registry', 'RegistryError'],
  read: ['readCheckpoint', 'readCheckpointBytes', 'inspectCheckpoint', 'toFloat32', 'isTensor', 'QuantizedTensor', 'NumpyArray', 'OrderedDict', 'PyInstance'],
  extract: ['extractStateDict', 'selectPrefix', 'writeStateDictNpy', 'encodeNpy', 'decodeNpy'],
  mapping: [
    'loadMapping', 'loadAllMappings', 'BUILTIN_MAPPINGS_DIR', 'planMapping', 'detectMapping', 'renderReport', 'describeModel', 'modelDescriptions',
    'mapCheckpoint', 'convertCheckpoint', 'loadConverted', 'disposeConverted', 'readConvertedMetadata', 'readTfjsWeights', 'writeTfjsWeights',
  ],
  models: ['backbones', 'createMobileNetV3', 'frozenStagesFromTrainableLayers', 'necks', 'detectors', 'createFasterRCNN', 'torchvisionDetectorConfig', 'DETECTOR_MODELS'],
  detect: ['loadDetectorCheckpoint', 'loadDetectorDir', 'detectorFromMetadata', 'detectorFolderMetadata', 'detectImage', 'readImageFile', 'drawDetections'],
  finetune: [
    'finetune', 'runDemo', 'loadConfig', 'optimizers', 'schedulers', 'datasets', 'transforms', 'CocoDataset', 'writeShapesDataset', 'evaluateDataset',
    'Trainer', 'NonFiniteLossError', 'Sgd', 'clipByGlobalNorm', 'saveCheckpoint', 'loadCheckpoint', 'computeLosses', 'detectorTrainable',
    'detectorVariables', 'SeededRandom',
  ],
  export: ['exportStateDict', 'STATE_DICT_FORMATS', 'buildExport', 'writeStateDictPth', 'writeSafetensors', 'readSafetensors', 'exportGraphModel', 'UnsupportedOpError'],
  backends: ['selectBackend', 'backendStatus', 'preflight', 'formatPreflight', 'ensureGradients', 'registerWasmKernels', 'setSimdGemm', 'simdGemmActive', 'dense'],
};

/** Every name src/index.ts exports, types included, read from its export statements. */
function indexNames(): string[] {
  const names: string[] = [];
  for (const m of readFileSync(INDEX, 'utf8').matchAll(/^export (?:type )?\{([^}]*)\}/gm)) {
    for (const part of m[1].split(',')) {
      const name = part.trim().replace(/^type\s+/, '').split(/\s+as\s+/).pop();
      if (name) names.push(name);
    }
  }
  return names;
}

/** docs/api.md's ```ts blocks, in order. */
function examples(): string[] {
  return [...DOC.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules') return [];
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|js|mjs)$/.test(name) ? [path] : [];
  });
}

test('src/index.ts exports exactly the public values', async () => {
  const exported = Object.keys(await import('../../src/index.js')).sort();
  assert.deepEqual(exported, Object.values(PUBLIC).flat().sort());
});

test('docs/api.md names every export of src/index.ts, types included', () => {
  const names = indexNames();
  assert.ok(names.length > 150, `read only ${names.length} names from src/index.ts`);
  const missing = names.filter((n) => !new RegExp(`\\b${n}\\b`).test(DOC));
  assert.deepEqual(missing, []);
});

test('tests, benchmarks and examples import internals from their files, not through src/index.ts', () => {
  const self = fileURLToPath(import.meta.url);
  const through = ['test', 'bench', 'examples', 'scripts']
    .flatMap((d) => sourceFiles(join(ROOT, d)))
    .filter((f) => f !== self && /from\s+['"][./]*src(\/index(\.js|\.ts)?)?['"]/.test(readFileSync(f, 'utf8')))
    .map((f) => relative(ROOT, f));
  assert.deepEqual(through, []);
});

test("docs/api.md's examples type-check against the package and run in order", async (t) => {
  const blocks = examples();
  assert.equal(blocks.length, 8, 'one example per area');
  const dir = mkdtempSync(join(tmpdir(), 'torchport-api-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  symlinkSync(join(ROOT, 'configs'), join(dir, 'configs'));
  copyFileSync(join(ROOT, 'fixtures', 'mobilenetv3', 'tv_small.pth'), join(dir, 'backbone.pth'));
  copyFileSync(join(ROOT, 'fixtures', 'fasterrcnn', 'model.pth'), join(dir, 'detector.pth'));
  writeFileSync(join(dir, 'image.png'), await encodePng(drawShapesImage(128, 1, 3).image));

  const files = blocks.map((code, i) => {
    const file = `example-${i + 1}.mts`;
    writeFileSync(join(dir, file), code);
    return file;
  });
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true,
      allowImportingTsExtensions: true, types: ['node'], paths: { torchport: [INDEX] },
    },
    files,
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
  const tsc = spawnSync(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', dir], { encoding: 'utf8' });
  assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);

  const tsx = import.meta.resolve('tsx');
  for (const file of files) {
    const code = readFileSync(join(dir, file), 'utf8').replace(/from 'torchport'/g, `from '${INDEX}'`);
    writeFileSync(join(dir, file), code);
    const r = spawnSync(process.execPath, ['--import', tsx, file], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, `${file}:\n${code}\n${r.stdout}${r.stderr}`);
  }
});
