// The page's module: loads the exported GraphModel (model/model.json) with plain TF.js, runs it on
// the bundled sample or a picked file, draws the boxes and labels, and shows the backend and the
// timing. The last run is also left in `window.result` (what the browser test reads).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { loadGraphModel } from '@tensorflow/tfjs-converter';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const COLOURS = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#bfef45'];
let model;
let current;

async function useBackend(name) {
  if (name === 'wasm') setWasmPaths('wasm/');
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} is not available here`);
  await tf.ready();
}

function draw(image, result, threshold) {
  const canvas = $('canvas');
  canvas.width = image.width;
  canvas.height = image.height;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(image, 0, 0);
  ctx.lineWidth = 2;
  ctx.font = '13px system-ui, sans-serif';
  const rows = ['<tr><th>label</th><th>score</th><th>x1</th><th>y1</th><th>x2</th><th>y2</th></tr>'];
  for (const d of result.detections) {
    if (d.score < threshold) continue;
    const [x1, y1, x2, y2] = d.box;
    const colour = COLOURS[d.labelId % COLOURS.length];
    ctx.strokeStyle = colour;
    ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
    const text = `${d.label} ${d.score.toFixed(2)}`;
    const w = ctx.measureText(text).width + 6;
    ctx.fillStyle = colour;
    ctx.fillRect(x1, Math.max(0, y1 - 17), w, 17);
    ctx.fillStyle = '#fff';
    ctx.fillText(text, x1 + 3, Math.max(13, y1 - 4));
    rows.push(`<tr><td>${d.label}</td><td>${d.score.toFixed(3)}</td>${d.box.map((v) => `<td>${v.toFixed(1)}</td>`).join('')}</tr>`);
  }
  $('detection-table').innerHTML = rows.join('');
}

async function detect(image) {
  const names = model.metadata?.classNames ?? {};
  const x = tf.tidy(() => tf.expandDims(tf.cast(tf.browser.fromPixels(image), 'float32'), 0));
  const started = performance.now();
  const outputs = await model.executeAsync(x);
  const byName = Object.fromEntries(model.outputs.map((o, i) => [o.name, outputs[i]]));
  const [boxes, scores, labels] = await Promise.all([byName.boxes.data(), byName.scores.data(), byName.labels.data()]);
  const ms = performance.now() - started;
  tf.dispose([x, ...outputs]);
  const detections = Array.from(scores, (score, i) => ({
    box: Array.from(boxes.subarray(4 * i, 4 * i + 4)),
    score,
    labelId: labels[i],
    label: names[labels[i]] ?? `class ${labels[i]}`,
  }));
  return { backend: tf.getBackend(), ms, width: image.width, height: image.height, detections };
}

async function run(image) {
  current = image;
  $('status').textContent = `running on ${tf.getBackend()}…`;
  const first = await detect(image);
  const second = await detect(image);
  const result = { ...second, firstMs: first.ms };
  draw(image, result, Number($('threshold').value));
  $('status').textContent = `backend ${result.backend}: ${result.detections.length} detections, ${result.ms.toFixed(0)} ms (first run ${first.ms.toFixed(0)} ms), image ${image.width}x${image.height}`;
  window.result = result;
}

function loadImage(src) {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => reject(new Error(`cannot load ${src}`));
    image.src = src;
  });
}

async function main() {
  const backend = params.get('backend') ?? 'webgl';
  $('backend').value = backend;
  await useBackend(backend);
  model = await loadGraphModel('model/model.json');
  await run(await loadImage(params.get('image') ?? 'sample.png'));
  $('file').addEventListener('change', async (e) => {
    const file = e.target.files[0];
    if (file) await run(await loadImage(URL.createObjectURL(file)));
  });
  $('threshold').addEventListener('change', () => current && window.result && draw(current, window.result, Number($('threshold').value)));
  $('backend').addEventListener('change', (e) => {
    params.set('backend', e.target.value);
    location.search = params.toString();
  });
}

main().catch((err) => {
  $('status').textContent = `error: ${err.message}`;
  window.result = { error: err.message };
});
