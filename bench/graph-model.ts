// The exported GraphModel of the full-size fasterrcnn_mobilenet_v3_large_320_fpn (91 classes,
// seeded random weights from bench/detector_inference_torch.py, never committed), in one run:
// convert and export time, on-disk size, and inference per 320x320 image through tfjs-converter in
// Node (wasm, 1 thread; torchport's wasm kernels are registered in this process) next to
// torchport's own detector (what `torchport detect` runs) and PyTorch CPU (1 thread, OpenBLAS),
// and in headless Chromium with stock TF.js (examples/browser, wasm and webgl). Then RoIAlign with
// adaptive sampling (samplingRatio 0, aligned: mmdetection's RoIAlign) next to the fixed grid of 2:
// time and tf.profile's peak bytes of one GraphModel run, at 320 and at the 800/1333 size rule.
// Not a test; run by hand:  node --import tsx bench/graph-model.ts [--runs N]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/backend/select.js';
import { exportGraphModel } from '../src/export/graph-model/index.js';
import { encodePng } from '../src/io/image.js';
import { decodeNpy } from '../src/checkpoint/npy.js';
import { convertCheckpoint } from '../src/models/convert.js';
import { loadDetectorDir } from '../src/models/detectors/load.js';
import { loadFolder, writeVariantFolder } from '../test/export/graph-model-helpers.js';
import { CHROMIUM_FLAGS, startServer } from '../examples/browser/serve.mjs';

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg >= 0 ? Number(process.argv[runsArg + 1]) : 5;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const sizeOf = (dir: string) => readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

async function timed(run: () => Promise<void>): Promise<number> {
  for (let i = 0; i < 2; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  return median(times);
}

const dir = mkdtempSync(join(tmpdir(), 'torchport-bench-graph-'));
try {
  const torch = JSON.parse(
    execFileSync('/usr/bin/python3', ['bench/detector_inference_torch.py', dir, String(RUNS)], {
      encoding: 'utf8',
      env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', OMP_WAIT_POLICY: 'PASSIVE' },
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim().split('\n').pop()!,
  ) as { ms: number };
  const img = decodeNpy(readFileSync(join(dir, 'image.npy')));
  const image = { height: 320, width: 320, data: img.data as Uint8Array };
  writeFileSync(join(dir, 'image.png'), await encodePng(image));

  await selectBackend('wasm');
  let t = performance.now();
  const converted = await convertCheckpoint(join(dir, 'model.pth'), join(dir, 'converted'), { model: 'fasterrcnn_mobilenet_v3_large_320_fpn' });
  const convertMs = performance.now() - t;
  if (!converted.written) throw new Error('the benchmark checkpoint did not convert');
  t = performance.now();
  const exported = await exportGraphModel(join(dir, 'converted'), join(dir, 'graph'));
  const exportMs = performance.now() - t;

  const model = await loadFolder(join(dir, 'graph'));
  const x = tf.tensor4d(Float32Array.from(image.data), [1, 320, 320, 3]);
  const graphMs = await timed(async () => tf.dispose((await model.executeAsync(x)) as tf.Tensor[]));
  const detector = loadDetectorDir(join(dir, 'converted'));
  const ownMs = await timed(async () => void (await detector.model.predict(detector.weights, [image])));

  const rows: Array<[string, string]> = [
    ['PyTorch CPU (1 thread, OpenBLAS)', `${torch.ms.toFixed(0)} ms`],
    ['torchport detect (Node, wasm, 1 thread)', `${ownMs.toFixed(0)} ms (${(ownMs / torch.ms).toFixed(2)}x PyTorch)`],
    ['GraphModel through tfjs-converter (Node, wasm with torchport\'s kernels registered, 1 thread)', `${graphMs.toFixed(0)} ms (${(graphMs / torch.ms).toFixed(2)}x PyTorch)`],
  ];
  if (existsSync(CHROMIUM)) {
    const { chromium } = await import('playwright-core');
    const server = await startServer({ model: join(dir, 'graph'), sample: join(dir, 'image.png') });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    try {
      for (const backend of ['wasm', 'webgl']) {
        const times: number[] = [];
        let error = '';
        for (let i = 0; i < Math.max(3, Math.ceil(RUNS / 2)) && !error; i++) {
          const page = await browser.newPage();
          try {
            await page.goto(`${server.url}?backend=${backend}`);
            // one load runs the model twice (the first run compiles kernels / shaders); the second is timed
            await page.waitForFunction(() => (window as unknown as { result?: unknown }).result, undefined, { timeout: 240_000 });
            const got = await page.evaluate(() => (window as unknown as { result: { ms: number; error?: string } }).result);
            if (got.error) error = got.error;
            else times.push(got.ms);
          } catch (err) {
            error = `${(err as Error).message.split('\n')[0]} (status: ${await page.textContent('#status').catch(() => '?')})`;
          } finally {
            await page.close();
          }
        }
        rows.push([`GraphModel in Chromium ${backend}${backend === 'webgl' ? ' (SwiftShader: software GL, no GPU)' : ' (1 thread)'}`, error ? `not measured: ${error}` : `${median(times).toFixed(0)} ms (${(median(times) / torch.ms).toFixed(2)}x PyTorch)`]);
      }
    } finally {
      await browser.close();
      await server.close();
    }
  } else rows.push(['GraphModel in Chromium', `skipped: no Chromium at ${CHROMIUM}`]);

  // RoIAlign sampling: the same weights, fixed grid of 2 (the checkpoint's) and adaptive, at two sizes
  const sampling: string[] = [];
  for (const [size, transform] of [['320', {}], ['800/1333', { minSize: 800, maxSize: 1333 }]] as const) {
    for (const adaptive of [false, true]) {
      const name = `${size === '320' ? 's' : 'l'}${adaptive ? 'a' : 'f'}`;
      writeVariantFolder(join(dir, 'converted'), join(dir, name), (c) => ({
        ...c,
        transform: { ...c.transform, ...transform },
        roiHead: adaptive ? { ...c.roiHead, samplingRatio: 0, aligned: true } : c.roiHead,
      }));
      const built = await exportGraphModel(join(dir, name), join(dir, `${name}-graph`));
      const m = await loadFolder(join(dir, `${name}-graph`));
      const ms = await timed(async () => tf.dispose((await m.executeAsync(x)) as tf.Tensor[]));
      const profile = await tf.profile(async () => tf.dispose((await m.executeAsync(x)) as tf.Tensor[]));
      sampling.push(`| ${size} | ${adaptive ? 'adaptive (0), aligned' : 'fixed (2)'} | ${ms.toFixed(0)} ms | ${mb(profile.peakBytes)} | ${built.nodes} |`);
      m.dispose();
    }
  }

  process.stdout.write(`full-size fasterrcnn_mobilenet_v3_large_320_fpn, one 320x320 image, median of ${RUNS} runs after 2 warm-up runs\n\n`);
  process.stdout.write(`| | per image |\n|---|---|\n${rows.map(([a, b]) => `| ${a} | ${b} |`).join('\n')}\n\n`);
  process.stdout.write(`convert ${(convertMs / 1000).toFixed(1)} s, export --format graph-model ${(exportMs / 1000).toFixed(1)} s (${exported.nodes} nodes, ${exported.ops.length} distinct ops)\n`);
  process.stdout.write(`on disk: converted folder ${mb(sizeOf(join(dir, 'converted')))}, GraphModel ${mb(sizeOf(join(dir, 'graph')))} (${exported.files.length - 1} shards)\n`);
  process.stdout.write(`\nRoIAlign sampling in the GraphModel (Node, wasm), same weights and image:\n\n| size rule | sampling | per image | peak tensor memory (tf.profile) | graph nodes |\n|---|---|---|---|---|\n${sampling.join('\n')}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
