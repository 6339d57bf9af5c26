// One error line as the user sees it, for the CLI's own errors and for a command that reports a
// bad input and goes on (detect's unreadable images).
import { systemCodesInWords } from '../errors.js';
import { paint } from './colour.js';

/** `torchport: ` (red at a terminal) before the message's first line, no raw system codes. */
export function report(message: string): void {
  const { red } = paint(process.stderr);
  process.stderr.write(`${red('torchport:')} ${systemCodesInWords(message)}\n`);
}
