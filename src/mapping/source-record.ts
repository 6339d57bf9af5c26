// What `convert` keeps about the checkpoint it read, so that export can give it back bit for bit:
// every tensor's key, dtype and shape in the checkpoint's order, the parameter each one became (or
// none), how the state dict was wrapped, its `_metadata`, and the bytes of every tensor the model
// did not take (BatchNorm step counters, ignored heads, float64 originals) in a safetensors file.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors } from '../checkpoint/safetensors.js';
import type { DType, StateDict, StateDictMetadata, TorchTensor } from '../checkpoint/types.js';
import type { OutTensor } from '../checkpoint/out-tensor.js';
import { writeSafetensors } from '../checkpoint/write-safetensors.js';
import { InputError } from '../errors.js';
import type { MappingPlan } from './plan.js';

export const SOURCE_RECORD_FILE = 'source-layout.json';
export const SOURCE_EXTRAS_FILE = 'source-extras.safetensors';

export interface SourceRecord {
  format: 'torchport-source-layout';
  /** The mapping the checkpoint was converted with. */
  mapping: string;
  /** Where the state dict sat: 'raw' (top level), or the top-level key that held it. */
  container: string;
  /** A prefix stripped from every key on reading (DataParallel's `module.`). */
  strippedPrefix?: string;
  /** The state dict's `_metadata` entries, in order. */
  metadata: Array<[string, Record<string, unknown>]>;
  /** Every tensor in checkpoint order; `target`: the parameter it became; `extra`: bytes kept in SOURCE_EXTRAS_FILE. */
  tensors: Array<{ key: string; dtype: DType; shape: number[]; target?: string; extra?: boolean }>;
}

export interface SourceOrigin {
  mapping: string;
  container: string;
  strippedPrefix?: string;
  metadata: StateDictMetadata;
}

/** Writes the record (and the extras file when there are extras) into `dir`; returns the files written. */
export function writeSourceRecord(dir: string, stateDict: StateDict, plan: MappingPlan, origin: SourceOrigin): string[] {
  const targetOf = new Map(plan.matched.map((m) => [m.source, m.target]));
  const extras: OutTensor[] = [];
  const tensors: SourceRecord['tensors'] = [];
  for (const [key, t] of stateDict) {
    const target = targetOf.get(key);
    // float64 does not survive the model's float32: keep the original bytes beside it.
    const extra = target === undefined || t.dtype === 'float64';
    tensors.push({ key, dtype: t.dtype, shape: [...t.shape], ...(target !== undefined ? { target } : {}), ...(extra ? { extra } : {}) });
    if (extra) extras.push({ key, dtype: t.dtype, shape: t.shape, data: () => t.data });
  }
  const record: SourceRecord = {
    format: 'torchport-source-layout',
    mapping: origin.mapping,
    container: origin.container,
    ...(origin.strippedPrefix ? { strippedPrefix: origin.strippedPrefix } : {}),
    metadata: [...origin.metadata],
    tensors,
  };
  const files = [SOURCE_RECORD_FILE];
  writeFileSyncJson(join(dir, SOURCE_RECORD_FILE), record);
  if (extras.length > 0) {
    writeSafetensors(join(dir, SOURCE_EXTRAS_FILE), extras);
    files.push(SOURCE_EXTRAS_FILE);
  }
  return files;
}

/** Written inside a folder the caller writes atomically. JSON has no BigInt: `_metadata` holds small ints. */
function writeFileSyncJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))}\n`);
}

/** The record `convert` left in `dir`, with its extras by key, or undefined for a folder without one. */
export function readSourceRecord(dir: string): { record: SourceRecord; extras: Map<string, TorchTensor> } | undefined {
  const file = join(dir, SOURCE_RECORD_FILE);
  if (!existsSync(file)) return undefined;
  let record: SourceRecord;
  try {
    record = JSON.parse(readFileSync(file, 'utf8')) as SourceRecord;
  } catch (err) {
    throw new InputError(`not valid JSON: ${(err as Error).message}`, file);
  }
  if (record?.format !== 'torchport-source-layout' || !Array.isArray(record.tensors) || typeof record.mapping !== 'string') {
    throw new InputError('is not a torchport source-layout record', file);
  }
  const extras = new Map<string, TorchTensor>();
  const extrasFile = join(dir, SOURCE_EXTRAS_FILE);
  if (record.tensors.some((t) => t.extra)) {
    if (!existsSync(extrasFile)) throw new InputError(`${SOURCE_EXTRAS_FILE} is missing (the record lists tensors kept there)`, dir);
    for (const [k, t] of readSafetensors(readFileSync(extrasFile), extrasFile).tensors) extras.set(String(k), t as TorchTensor);
    for (const t of record.tensors) if (t.extra && !extras.has(t.key)) throw new InputError(`has no tensor '${t.key}'`, extrasFile);
  }
  return { record, extras };
}
