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
