// Writes a state dict as one .npy per tensor, so values can be checked from any language.
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { writeDirAtomic } from '../io/atomic.js';
import { encodeNpy } from './npy.js';
import { toFloat32 } from './dtype.js';
import type { StateDict } from './types.js';

/** A key as a file name: `/`, `\`, `%` and control characters are %-escaped. */
export function npyFileName(key: string): string {
  const safe = key.replace(/[%/\\\x00-\x1f]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`);
  return `${safe === '' || safe === '.' || safe === '..' ? `%${safe}` : safe}.npy`;
}

/**
 * Writes `DIR/<key>.npy` for every tensor in its own dtype (bfloat16 widened to float32, as NumPy
 * has no bfloat16). The directory appears only when complete. Returns the widened keys.
 */
export async function writeStateDictNpy(stateDict: StateDict, dir: string): Promise<{ files: number; widened: string[] }> {
  const widened: string[] = [];
  await writeDirAtomic(dir, (tmp) => {
    for (const [key, t] of stateDict) {
      const out = t.dtype === 'bfloat16' ? { dtype: 'float32' as const, shape: t.shape, data: toFloat32(t) } : t;
      if (t.dtype === 'bfloat16') widened.push(key);
      writeFileSync(join(tmp, npyFileName(key)), encodeNpy(out));
    }
  });
  return { files: stateDict.size, widened };
}
