// The one error type for bad input anywhere in the library. The CLI prints its message as one
// line and exits with code 2; anything else is a bug and keeps its stack trace.

export class InputError extends Error {
  /** @param file the offending file or path, prefixed to the message when given. */
  constructor(message: string, readonly file?: string) {
    super(file ? `${file}: ${message}` : message);
    this.name = 'InputError';
  }
}
