// Random access to a checkpoint's bytes: a buffer already in memory, or a file read through a file
// descriptor on demand (readFileSync cannot read files over 2 GiB, and `inspect` needs only the
// pickle and the zip directory of a multi-gigabyte file).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { InputError } from '../errors.js';

export interface ByteSource {
  readonly size: number;
  /** `length` bytes from `offset` (the caller checks the range). A file read returns a fresh,
   * 8-byte-aligned buffer; a buffer source returns a view. */
  read(offset: number, length: number): Buffer;
}

export function bufferSource(buf: Buffer): ByteSource {
  return { size: buf.length, read: (offset, length) => buf.subarray(offset, offset + length) };
}

function readOrFail(fd: number, out: Buffer, at: number, length: number, position: number, path: string): number {
  try {
    return readSync(fd, out, at, length, position);
  } catch (err) {
    throw new InputError(`cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, path);
  }
}

/** A single readSync moves at most this much. */
const CHUNK = 1 << 30;

/** A file opened once and kept open until `close()`; a read after that reopens it for that read. */
export class FileSource implements ByteSource {
  private fd: number | undefined;
  readonly size: number;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'r');
    this.size = fstatSync(this.fd).size;
  }

  read(offset: number, length: number): Buffer {
    const reopened = this.fd === undefined;
    const fd = this.fd ?? this.reopen();
    try {
      const out = Buffer.allocUnsafeSlow(length);
      for (let done = 0; done < length;) {
        const n = readOrFail(fd, out, done, Math.min(CHUNK, length - done), offset + done, this.path);
        if (n === 0) throw new InputError(`changed while being read (ends at byte ${offset + done}, expected ${this.size})`, this.path);
        done += n;
      }
      return out;
    } finally {
      if (reopened) closeSync(fd);
    }
  }

  private reopen(): number {
    try {
      return openSync(this.path, 'r');
    } catch (err) {
      throw new InputError(`cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, this.path);
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
