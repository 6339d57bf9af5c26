// The data behind `torchport inspect`: read, unwrap, filter, summarise; plain JSON-able values.
import { describeValue, extractStateDict } from './extract.js';
import { readCheckpoint, type ReadOptions } from './read.js';
import { groupKeys, numelOf, summarise, type StateDictSummary } from './summary.js';
import type { StateDict } from './types.js';

export interface InspectOptions {
  key?: string;
  /** Keep only keys matching this regular expression (JavaScript syntax). */
  filter?: string;
  group?: boolean;
  /** How to read the file. Tensors are read lazily: only those whose values are used (--npy) are read. */
  read?: Omit<ReadOptions, 'lazy'>;
}

/** `quantized`: how a quantized tensor is stored (its row's dtype is the dequantized float32). */
export interface TensorRow { key: string; dtype: string; shape: number[]; numel: number; quantized?: string }
export interface GroupRow { pattern: string; dtypes: string[]; tensors: number; numel: number }

export interface InspectReport {
  file: string;
  format: 'zip' | 'legacy' | 'safetensors';
  protocol: number;
  records: number;
  /** What wrapped the weights: 'state_dict' | 'model' | 'raw' | the key. */
  source: string;
  strippedPrefix?: string;
  /** Other top-level entries of a wrapping dict, described (e.g. `epoch: int 12`). */
  others: Record<string, string>;
  /** Keys in the whole state dict, before --filter. */
  totalTensors: number;
  summary: StateDictSummary;
  rows: TensorRow[];
  groups?: GroupRow[];
  notes: string[];
  warnings: string[];
}

/** Reads and summarises a checkpoint; also returns the (filtered) state dict for --npy. */
export function inspectCheckpoint(file: string, opts: InspectOptions = {}): { report: InspectReport; stateDict: StateDict } {
  const ckpt = readCheckpoint(file, { ...opts.read, lazy: true });
  const ex = extractStateDict(ckpt.object, { key: opts.key, filter: opts.filter, file });
  const { stateDict } = ex;
  const others: Record<string, string> = {};
  if (ckpt.object instanceof Map && ex.source !== 'raw') {
    for (const [k, v] of ckpt.object) if (String(k) !== ex.source) others[String(k)] = describeValue(v);
  }
  const rows: TensorRow[] = [...stateDict].map(([key, t]) => {
    const q = ex.quantized.get(key);
    return { key, dtype: t.dtype, shape: t.shape, numel: numelOf(t.shape), ...(q ? { quantized: q.describe() } : {}) };
  });
  const report: InspectReport = {
    file,
    format: ckpt.format,
    protocol: ckpt.protocol,
    records: ckpt.records.length,
    source: ex.source,
    strippedPrefix: ex.strippedPrefix,
    others,
    totalTensors: ex.totalKeys,
    summary: summarise(stateDict),
    rows,
    notes: ex.notes,
    warnings: ckpt.warnings,
  };
  if (opts.group) {
    const byKey = new Map(rows.map((r) => [r.key, r]));
    report.groups = groupKeys(stateDict.keys()).map((g) => {
      const members = g.keys.map((k) => byKey.get(k)!);
      return {
        pattern: g.pattern,
        dtypes: [...new Set(members.map((m) => m.dtype))],
        tensors: members.length,
        numel: members.reduce((n, m) => n + m.numel, 0),
      };
    });
  }
  return { report, stateDict };
}
