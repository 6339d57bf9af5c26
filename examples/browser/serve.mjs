// Serves the page on 127.0.0.1: index.html, app.js bundled with esbuild from node_modules' TF.js
// (in memory, nothing written), TF.js's .wasm files under wasm/, an exported GraphModel folder
// under model/ and a sample image as sample.png.
//   node examples/browser/serve.mjs --model DIR [--sample PNG] [--port N]
import { createServer } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const HERE = dirname(fileURLToPath(import.meta.url));
/** Flags for Debian's Chromium headless as root (playwright adds a fresh --user-data-dir itself). */
export const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm', '.png': 'image/png', '.bin': 'application/octet-stream' };

async function bundle() {
  const result = await build({ entryPoints: [join(HERE, 'app.js')], bundle: true, format: 'esm', write: false, minify: true, logLevel: 'warning' });
  return result.outputFiles[0].contents;
}

function inside(root, rel) {
  const file = normalize(join(root, rel));
  return file.startsWith(resolve(root)) && existsSync(file) && statSync(file).isFile() ? file : undefined;
}

/** Starts the server; resolves to its URL and a close function. */
export async function startServer({ model, sample, port = 0 }) {
  const app = await bundle();
  const wasmDir = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let body;
    let file;
    if (path === '/' || path === '/index.html') file = join(HERE, 'index.html');
    else if (path === '/app.js') body = app;
    else if (path === '/sample.png' && sample) file = sample;
    else if (path.startsWith('/wasm/')) file = inside(wasmDir, path.slice(6));
    else if (path.startsWith('/model/')) file = inside(model, path.slice(7));
    if (!body && !file) {
      res.writeHead(404).end('not found');
      return;
    }
    const type = TYPES[extname(file ?? path)] ?? 'application/octet-stream';
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache' }).end(body ?? readFileSync(file));
  });
  await new Promise((ok) => server.listen(port, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((ok) => server.close(ok)) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : fallback;
  };
  const model = arg('model');
  if (!model || !existsSync(join(model, 'model.json'))) {
    process.stderr.write('usage: node examples/browser/serve.mjs --model GRAPH_MODEL_DIR [--sample PNG] [--port N]\n');
    process.exit(2);
  }
  const { url } = await startServer({ model, sample: arg('sample'), port: Number(arg('port', 8080)) });
  process.stdout.write(`serving ${model} at ${url} (Ctrl-C to stop)\n`);
}
