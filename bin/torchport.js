#!/usr/bin/env node
// Runs the CLI. dist/ is built by `npm ci` through the `prepare` script, or by `npm run build`: tsc
// compiles src/ to dist/ (the library), then esbuild bundles the CLI into dist/cli-bundle/, one
// chunk per command, because resolving and compiling ~100 small modules (yargs alone is 40 ms)
// was most of a command's start-up. Under --verbose, stack traces name the TypeScript sources
// (the bundle's source maps); reading the maps costs start-up time, so only then.
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli-bundle/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('torchport: dist/ is missing; run `npm run build` first\n');
  process.exit(2);
}
if (process.argv.includes('--verbose')) process.setSourceMapsEnabled(true);
await import(main.href);
