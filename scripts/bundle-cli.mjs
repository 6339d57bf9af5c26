// Bundles the CLI (src/cli/main.ts) into dist/cli-bundle/, which bin/torchport.js runs. One chunk
// per lazily imported command keeps `inspect` and `diff` free of TF.js; TF.js and sharp stay
// external (they locate their .wasm and native files relative to their own packages). The banner
// gives bundled CommonJS dependencies (cli-table3's colours, yargs) a `require` for Node's built-in
// modules, which an ES module otherwise lacks. Source maps (without the sources' text) map stack
// traces back to src/**/*.ts; bin/torchport.js turns them on under --verbose only, since reading
// them costs start-up time.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

const outdir = new URL('../dist/cli-bundle/', import.meta.url).pathname;
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [new URL('../src/cli/main.ts', import.meta.url).pathname],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['@tensorflow/*', 'sharp'],
  sourcemap: 'linked',
  sourcesContent: false,
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
  logLevel: 'warning',
});
