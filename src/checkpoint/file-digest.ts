// SHA-256 of a file of any size, read in chunks (readFileSync stops at 2 GiB and would hold it all).
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';

const CHUNK = 8 << 20;

/** Throws the fs error (ENOENT, EISDIR, ...) for the caller to report. */
export function sha256OfFile(path: string): { sha256: string; bytes: number } {
  const fd = openSync(path, 'r');
  try {
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(CHUNK);
    let bytes = 0;
    for (let n; (n = readSync(fd, buf, 0, CHUNK, bytes)) > 0; bytes += n) hash.update(buf.subarray(0, n));
    return { sha256: hash.digest('hex'), bytes };
  } finally {
    closeSync(fd);
  }
}
