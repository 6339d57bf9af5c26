// The folders under src/ import one way, in the pipeline's order. A folder may import one below it
// (or beside it, as long as no two folders of a rank import each other); never one above it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

/** Rank per module group: a group imports only groups of lower or equal rank. */
const RANK: Record<string, number> = {
  // Leaf modules directly under src/: they import nothing but each other.
  'errors.ts': 0,
  'registry.ts': 0,
  'schema.ts': 0,
  io: 1,
  backend: 1,
  checkpoint: 2,
  mapping: 3,
  models: 4,
  data: 5,
  eval: 5,
  config: 5,
  train: 5,
  export: 5,
  cli: 6,
  // The public API re-exports every layer.
  'index.ts': 7,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|js|mjs)$/.test(name) ? [path] : [];
  });
}

/** Relative specifiers of static, type-only, re-export, side-effect and dynamic imports. */
export function importSpecifiers(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const out: string[] = [];
  for (const m of code.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)(['"])(\.{1,2}\/[^'"]+)\1/g)) out.push(m[2]);
  return out;
}

/** The group a file under src/ belongs to: its top folder, or its own name for a file at the top. */
function group(file: string): string {
  return relative(SRC, file).split(sep)[0];
}

export interface Edge {
  from: string;
  to: string;
  file: string;
  target: string;
}

export function groupEdges(srcDir = SRC): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles(srcDir)) {
    for (const spec of importSpecifiers(readFileSync(file, 'utf8'))) {
      const target = normalize(join(dirname(file), spec));
      if (relative(srcDir, target).startsWith('..')) continue;
      const from = group(file);
      const to = group(target.replace(/\.js$/, '.ts'));
      if (from !== to) edges.push({ from, to, file: relative(srcDir, file), target: relative(srcDir, target) });
    }
  }
  return edges;
}

/** Edges that point up the order, and pairs of same-rank groups that import each other. */
export function layeringProblems(edges: Edge[]): string[] {
  const problems: string[] = [];
  for (const e of edges) {
    for (const g of [e.from, e.to]) {
      if (!(g in RANK)) problems.push(`src/${g} has no place in the layer order (add it to RANK in test/project/layering.test.ts)`);
    }
    if (RANK[e.from] < RANK[e.to]) problems.push(`${e.from} imports ${e.to}, a layer above it: src/${e.file} -> src/${e.target}`);
  }
  const pairs = new Set(edges.map((e) => `${e.from}>${e.to}`));
  for (const e of edges) {
    if (RANK[e.from] === RANK[e.to] && e.from < e.to && pairs.has(`${e.to}>${e.from}`)) problems.push(`${e.from} and ${e.to} import each other (src/${e.file} -> src/${e.target})`);
  }
  return [...new Set(problems)];
}

test('import specifiers: static, type-only, re-export and dynamic imports count; comments do not', () => {
  const source = [
    "import type { A } from './a.js';",
    "export * from '../b.js';",
    "import './c.js';",
    "const d = await import('../d/e.js');",
    "type F = typeof import('./f.js').x;",
    "// import { g } from './g.js';",
    "/* import { h } from './h.js'; */",
    "import * as tf from '@tensorflow/tfjs-core';",
  ].join('\n');
  assert.deepEqual(importSpecifiers(source), ['./a.js', '../b.js', './c.js', '../d/e.js', './f.js']);
});

test('a backward edge and a same-rank cycle are reported', () => {
  const edges: Edge[] = [
    { from: 'mapping', to: 'models', file: 'mapping/x.ts', target: 'models/y.js' },
    { from: 'data', to: 'config', file: 'data/a.ts', target: 'config/b.js' },
    { from: 'config', to: 'data', file: 'config/b.ts', target: 'data/a.js' },
    { from: 'models', to: 'mapping', file: 'models/y.ts', target: 'mapping/x.js' },
  ];
  assert.deepEqual(layeringProblems(edges), [
    'mapping imports models, a layer above it: src/mapping/x.ts -> src/models/y.js',
    'config and data import each other (src/config/b.ts -> src/data/a.js)',
  ]);
});

test('src/ folders import one way: leaves, io/backend, checkpoint, mapping, models, data/eval/config/train/export, cli', () => {
  const edges = groupEdges();
  assert.ok(edges.some((e) => e.from === 'models' && e.to === 'mapping'), 'the scan found no models -> mapping import: is it reading src/?');
  assert.deepEqual(layeringProblems(edges), []);
});
