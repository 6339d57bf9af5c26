// Streams a file into a temporary name beside its target and renames it into place only when the
// whole file was written: a reader never sees half a checkpoint, and an existing file is replaced
// atomically. Small writes (headers, biases) are gathered in one buffer, large pieces go straight
// to the file: a few system calls, and no memory beyond the buffer.
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { makeDirs } from '../io/make-dirs.js';

/** Appends bytes to the file being written and counts them. */
export interface FileSink {
  write(bytes: Uint8Array): void;
  /** Overwrites bytes already written, at file position `at` (a checksum known only after the data). */
  patch(at: number, bytes: Uint8Array): void;
  /** Bytes written so far. */
  readonly offset: number;
}

const BUFFER = 256 * 1024;
/** Pieces at least this long are written directly (after what is buffered). */
const DIRECT = 64 * 1024;

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
}

function bufferedSink(fd: number): FileSink & { flush(): void } {
  const buffer = Buffer.allocUnsafeSlow(BUFFER);
  let flushed = 0; // file position of buffer[0]
  let used = 0;
  const flush = (): void => {
    writeAll(fd, buffer.subarray(0, used), flushed);
    flushed += used;
    used = 0;
  };
  return {
    write(bytes) {
      if (used + bytes.length > BUFFER || bytes.length >= DIRECT) flush();
      if (bytes.length >= DIRECT) {
        writeAll(fd, bytes, flushed);
        flushed += bytes.length;
      } else {
        buffer.set(bytes, used);
        used += bytes.length;
      }
    },
    patch(at, bytes) {
      if (at < 0 || at + bytes.length > flushed + used) throw new Error(`internal: patching bytes ${at}..${at + bytes.length} of ${flushed + used} written`);
      if (at < flushed && at + bytes.length > flushed) flush();
      if (at >= flushed) buffer.set(bytes, at - flushed);
      else writeAll(fd, bytes, at);
    },
    get offset() {
      return flushed + used;
    },
    flush,
  };
}

export function writeFileStreamed(path: string, fill: (sink: FileSink) => void): void {
  makeDirs(dirname(path));
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now()}`);
  const fd = openSync(tmp, 'w');
  try {
    const sink = bufferedSink(fd);
    fill(sink);
    sink.flush();
    closeSync(fd);
    renameSync(tmp, path);
  } catch (err) {
    try { closeSync(fd); } catch { /* already closed */ }
    rmSync(tmp, { force: true });
    throw err;
  }
}
