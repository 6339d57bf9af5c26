// The one error type for bad input anywhere in the library. The CLI prints its message as one
// line and exits with code 2; anything else is a bug and keeps its stack trace.

export class InputError extends Error {
  /** @param file the offending file or path, prefixed to the message when given. */
  constructor(message: string, readonly file?: string) {
    super(file ? `${file}: ${message}` : message);
    this.name = 'InputError';
  }
}

/** A defect in torchport itself, met while handling some input: the CLI says so, asks for a report and
 * exits with code 70 (the stack trace, of `cause`, with `--verbose`). */
export class InternalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InternalError';
  }
}

/** Operating-system error codes in words, so no message shows a raw code such as ENOENT. */
const SYSTEM_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'a part of the path is not a folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'already exists',
  ENOTEMPTY: 'folder not empty',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'name too long',
  ELOOP: 'too many levels of symbolic links',
  EBUSY: 'busy',
  EXDEV: 'cannot move across file systems',
  EIO: 'input/output error',
  EFBIG: 'file too large',
};

/** `message` with every operating-system error code in it replaced by its words. */
export function systemCodesInWords(message: string): string {
  return message.replace(/\b(E[A-Z]{2,})\b(:[^,]*)?/g, (whole, code: string) => SYSTEM_ERRORS[code] ?? whole);
}

/** An operating-system error (from node:fs and the like) as one line: the path and what went wrong. */
export function systemErrorLine(err: unknown): string | undefined {
  const e = err as NodeJS.ErrnoException;
  if (!(err instanceof Error) || typeof e.code !== 'string' || typeof e.syscall !== 'string') return undefined;
  // mkdir -p meets a file where a folder of the path should be
  const words = e.code === 'EEXIST' && e.syscall === 'mkdir' ? 'is a file, not a folder' : SYSTEM_ERRORS[e.code] ?? e.message.replace(/^[A-Z]+: /, '').split(',')[0];
  return e.path ? `${e.path}: ${words}` : words;
}
