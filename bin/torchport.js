#!/usr/bin/env node
// Runs the compiled CLI (dist/ is built by `npm ci` through the `prepare` script, or `npm run build`).
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('torchport: dist/ is missing; run `npm run build` first\n');
  process.exit(2);
}
await import(main.href);
