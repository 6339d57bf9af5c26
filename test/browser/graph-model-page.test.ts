// examples/browser in a real headless Chromium (Debian's chromium through playwright-core): the
// page loads the exported demo detector with plain TF.js, runs it on the bundled sample, and the
// detections it reports equal Node's (tfjs-converter on wasm) for the same image; so does the demo
// detector with adaptive RoIAlign sampling (SparseSegmentMean on TF.js's stock kernels). Skipped,
// with the reason, where no Chromium is installed (CHROMIUM_PATH, default /usr/bin/chromium).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { selectBackend } from '../../src/backend/select.js';
import { decodeImage, encodePng } from '../../src/io/image.js';
import { assertClose } from '../models/faster-rcnn/helpers.js';
import { loadFolder, runDetector, writeVariantFolder, type GraphDetections } from '../export/graph-model-helpers.js';
import { exportGraphModel } from '../../src/export/graph-model/index.js';
import { DEMO_CLASSES, prepareDemo } from '../../examples/browser/demo-web.js';
import { CHROMIUM_FLAGS, startServer } from '../../examples/browser/serve.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
const work = mkdtempSync(join(tmpdir(), 'torchport-browser-'));
after(() => rmSync(work, { recursive: true, force: true }));

test('the page detects in Chromium what Node detects (wasm and cpu backends), and draws it', { skip, timeout: 240_000 }, async () => {
  const { chromium } = await import('playwright-core');
  const { model, sample } = await prepareDemo(join(work, 'demo'));
  await selectBackend('wasm');
  const node = await runDetector(await loadFolder(model), await decodeImage(readFileSync(sample)));
  assert.ok(node.scores.length > 0);
  const server = await startServer({ model, sample });
  // playwright starts Chromium with a fresh profile (--user-data-dir) of its own
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, timeout: 60_000 }).catch(async (err) => {
    await server.close();
    throw err;
  });
  try {
    let page;
    const check = async (url: string, backend: string, node: GraphDetections) => {
      page = await browser.newPage();
      page.on('pageerror', (err) => process.stderr.write(`page error: ${err.message}\n`));
      await page.goto(`${url}?backend=${backend}`);
      await page.waitForFunction(() => (window as unknown as { result?: unknown }).result, undefined, { timeout: 180_000 });
      const got = await page.evaluate(() => (window as unknown as { result: any }).result);
      assert.equal(got.error, undefined, got.error);
      assert.equal(got.backend, backend);
      assert.ok(got.ms > 0);
      assert.equal(got.detections.length, node.scores.length, `${backend}: count`);
      assert.deepEqual(got.detections.map((d: { labelId: number }) => d.labelId), [...node.labels], `${backend}: labels`);
      assert.deepEqual(got.detections.map((d: { label: string }) => d.label), [...node.labels].map((l) => DEMO_CLASSES[l - 1]));
      assertClose(got.detections.flatMap((d: { box: number[] }) => d.box), node.boxes, 1e-2, `${backend}: boxes`);
      assertClose(got.detections.map((d: { score: number }) => d.score), node.scores, 1e-4, `${backend}: scores`);
      assert.match(await page.textContent('#status') ?? '', new RegExp(`^backend ${backend}: ${node.scores.length} detections, \\d+ ms`));
    };
    for (const backend of ['wasm', 'cpu']) await check(server.url, backend, node);
    await page!.screenshot({ path: process.env.SCREENSHOT ?? join(work, 'page.png') });
    // an image with nothing in it: empty outputs, no error (TF.js's stock wasm kernels, unlike
    // torchport's, misshape gathers from empty tensors; the graph avoids them)
    const blank = join(work, 'blank.png');
    writeFileSync(blank, await encodePng({ height: 48, width: 80, data: new Uint8Array(48 * 80 * 3) }));
    const blankServer = await startServer({ model, sample: blank });
    try {
      const empty = await browser.newPage();
      await empty.goto(`${blankServer.url}?backend=wasm`);
      await empty.waitForFunction(() => (window as unknown as { result?: unknown }).result, undefined, { timeout: 120_000 });
      const got = await empty.evaluate(() => (window as unknown as { result: any }).result);
      assert.equal(got.error, undefined, got.error);
      assert.deepEqual([got.width, got.height, got.detections.length], [80, 48, 0]);
    } finally {
      await blankServer.close();
    }
    // adaptive RoIAlign sampling (mmdetection's default) in the browser, aligned
    const variant = writeVariantFolder(join(work, 'demo', 'converted'), join(work, 'adaptive'), (c) => ({ ...c, roiHead: { ...c.roiHead, samplingRatio: 0, aligned: true } }));
    const adaptive = join(work, 'adaptive-graph');
    await exportGraphModel(variant, adaptive, { classNames: DEMO_CLASSES });
    const adaptiveNode = await runDetector(await loadFolder(adaptive), await decodeImage(readFileSync(sample)));
    assert.ok(adaptiveNode.scores.length > 0);
    const adaptiveServer = await startServer({ model: adaptive, sample });
    try {
      await check(adaptiveServer.url, 'wasm', adaptiveNode);
    } finally {
      await adaptiveServer.close();
    }
  } finally {
    await browser.close();
    await server.close();
  }
});
