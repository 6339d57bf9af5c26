// Shared by the checkpoint tests: fixture paths and the expectations gen_checkpoints.py wrote.
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PyInstance } from '../../src/checkpoint/pyobjects.js';

export const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'checkpoints');

export const fixture = (name: string): string => join(FIXTURES, name);

export interface ExpectedTensor { path: string[]; dtype: string; shape: number[]; isParameter: boolean; data: string }

export interface Expected {
  format: 'zip' | 'legacy';
  protocol: number;
  tensors: ExpectedTensor[];
  extract?: { source: string; strippedPrefix: string | null; keys: string[]; metadata: Record<string, Record<string, unknown>> };
  values?: Record<string, unknown>;
}

export function expected(name: string): Expected {
  return JSON.parse(readFileSync(fixture(`${name}.expected.json`), 'utf8')) as Expected;
}

/** Follows a path of keys (Map keys compared as strings, list indices, object attributes). */
export function at(root: unknown, path: string[]): unknown {
  let node = root;
  for (const key of path) {
    if (node instanceof Map) {
      const k = [...node.keys()].find((x) => String(x) === key);
      assert.ok(k !== undefined, `missing key '${key}' in ${path.join('.')}`);
      node = node.get(k);
    } else if (Array.isArray(node)) {
      node = node[Number(key)];
    } else if (node instanceof PyInstance) {
      node = node.attrs.get(key);
    } else {
      assert.fail(`cannot follow '${key}' in ${path.join('.')}`);
    }
  }
  return node;
}

