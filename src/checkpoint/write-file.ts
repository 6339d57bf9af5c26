// Streams a file into a temporary name beside its target and renames it into place only when the
// whole file was written: a reader never sees half a checkpoint, and an existing file is replaced
// atomically.
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Appends bytes to the file being written and counts them. */
export interface FileSink {
  write(bytes: Uint8Array): void;
  /** Bytes written so far. */
  readonly offset: number;
}

export function writeFileStreamed(path: string, fill: (sink: FileSink) => void): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now()}`);
  const fd = openSync(tmp, 'w');
  let offset = 0;
  const sink: FileSink = {
    write(bytes) {
      let done = 0;
      while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
      offset += bytes.length;
    },
    get offset() {
      return offset;
    },
  };
  try {
    fill(sink);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (err) {
    try { closeSync(fd); } catch { /* already closed */ }
    rmSync(tmp, { force: true });
    throw err;
  }
}
