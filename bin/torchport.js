#!/usr/bin/env node
// Runs the CLI. dist/ is built by `npm ci` through the `prepare` script, or by `npm run build`: tsc
// compiles src/ to dist/ (the library), then esbuild bundles the CLI into dist/cli-bundle/, one
// chunk per command, because resolving and compiling ~100 small modules (yargs alone is 40 ms)
// was most of a command's start-up.
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli-bundle/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('torchport: dist/ is missing; run `npm run build` first\n');
  process.exit(2);
}
await import(main.href);
