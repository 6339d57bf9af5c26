// Colour for a person at a terminal: only when the stream is a TTY, never when NO_COLOR is set to
// anything (https://no-color.org) or TERM is dumb, so piped output and logs stay plain text.

export interface Paint {
  red: (text: string) => string;
  yellow: (text: string) => string;
  green: (text: string) => string;
  dim: (text: string) => string;
}

const sgr = (on: boolean, open: number, close: number) => (text: string): string => (on ? `\x1b[${open}m${text}\x1b[${close}m` : text);

/** The colours to use on `stream` (plain text functions when colour is off). */
export function paint(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Paint {
  const on = stream.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
  return { red: sgr(on, 31, 39), yellow: sgr(on, 33, 39), green: sgr(on, 32, 39), dim: sgr(on, 2, 22) };
}
