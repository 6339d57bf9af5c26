// Bundles the compiled CLI (dist/cli/main.js) into dist/cli-bundle/, which bin/torchport.js runs.
// One chunk per lazily imported command keeps `inspect` and `diff` free of TF.js; TF.js and sharp
// stay external (they locate their .wasm and native files relative to their own packages). The
// banner gives bundled CommonJS dependencies (cli-table3's colours, yargs) a `require` for Node's
// built-in modules, which an ES module otherwise lacks.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

const outdir = new URL('../dist/cli-bundle/', import.meta.url).pathname;
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [new URL('../dist/cli/main.js', import.meta.url).pathname],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['@tensorflow/*', 'sharp'],
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
  logLevel: 'warning',
});
