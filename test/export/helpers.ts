// Shared by the export tests: state dicts read back from files, compared byte for byte.
import { extractStateDict } from '../../src/checkpoint/extract.js';
import { readCheckpoint } from '../../src/checkpoint/read.js';
import type { StateDict, TorchTensor } from '../../src/checkpoint/types.js';

export const bytesOf = (t: TorchTensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);

/** The state dict of a checkpoint file, keys exactly as stored. */
export function stateDictOf(file: string, key?: string): StateDict {
  return extractStateDict(readCheckpoint(file).object, { stripPrefix: false, ...(key ? { key } : {}) }).stateDict;
}

/** Differences between two state dicts (keys and their order, dtypes, shapes, bytes), as text. */
export function differences(a: StateDict, b: StateDict): string[] {
  const out: string[] = [];
  if ([...a.keys()].join('\n') !== [...b.keys()].join('\n')) out.push(`keys differ: ${a.size} vs ${b.size}`);
  for (const [k, t] of a) {
    const u = b.get(k);
    if (!u) out.push(`${k}: missing`);
    else if (u.dtype !== t.dtype || u.shape.join() !== t.shape.join()) out.push(`${k}: ${t.dtype}[${t.shape}] vs ${u.dtype}[${u.shape}]`);
    else if (!bytesOf(t).equals(bytesOf(u))) out.push(`${k}: bytes differ`);
  }
  return out;
}
