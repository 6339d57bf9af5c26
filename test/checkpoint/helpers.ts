// Shared by the checkpoint tests: fixture paths and the expectations gen_checkpoints.py wrote.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

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
