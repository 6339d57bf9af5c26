// `npm run demo:web`: converts the detector `npm run demo` starts from (assets/demo-detector.pth, a
// reduced torchvision 320 detector trained on synthetic crosses, rings and diamonds), exports it as
// a GraphModel, copies a sample image of those classes (assets/demo-sample.png) and serves the page
// on 127.0.0.1 (PORT, default 8080).
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { selectBackend } from '../../src/backend/select.js';
import { exportGraphModel } from '../../src/export/graph-model/index.js';
import { convertCheckpoint } from '../../src/models/convert.js';
import { DEMO_CHECKPOINT } from '../../src/train/demo.js';
import { startServer } from './serve.mjs';

const ROOT = join(import.meta.dirname, '..', '..');
const OUT = join(ROOT, 'torchport-demo', 'web');
/** The shapes the demo detector was trained on, in label order. */
export const DEMO_CLASSES = ['cross', 'ring', 'diamond'];

/** Converts and exports the demo detector and copies the sample; returns the folders. */
export async function prepareDemo(out = OUT): Promise<{ model: string; sample: string }> {
  await selectBackend('wasm');
  const converted = join(out, 'converted');
  const model = join(out, 'graph-model');
  const sample = join(out, 'sample.png');
  const result = await convertCheckpoint(DEMO_CHECKPOINT, converted, { model: 'fasterrcnn_mobilenet_v3_large_320_fpn' });
  if (!result.written) throw new Error('the demo checkpoint did not convert');
  await exportGraphModel(converted, model, { classNames: DEMO_CLASSES });
  copyFileSync(join(ROOT, 'assets', 'demo-sample.png'), sample);
  return { model, sample };
}

if (process.argv[1] === import.meta.filename) {
  const { model, sample } = await prepareDemo();
  const { url } = await startServer({ model, sample, port: Number(process.env.PORT ?? 8080) });
  process.stdout.write(`exported ${model}\nserving the page at ${url} (?backend=webgl|wasm|cpu; Ctrl-C to stop)\n`);
}
