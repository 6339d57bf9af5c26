// yargs' own messages ("Unknown argument: x", "Missing required argument: config", "Not enough
// non-option arguments: got 0, need at least 1", "Invalid values: ...") in torchport's words,
// followed by the usage line of the command they are about.
import { closestName } from '../registry.js';

/** What the message needs to know about the yargs instance that failed. */
export interface UsageContext {
  /** `torchport <command> ...` as typed, without the program name. */
  argv: string[];
  /** The command's yargs form (e.g. `convert <checkpoint>`); undefined before a command is named. */
  command?: string;
  /** Its options, aliases included. */
  options: string[];
  /** Its required options. */
  required: string[];
}

/** `torchport convert <checkpoint> [options]`; required options are spelt out. */
export function usageLine(ctx: UsageContext): string {
  if (!ctx.command) return 'torchport <command> [options]; see torchport --help';
  const name = ctx.command.split(' ')[0];
  const positionals = ctx.command.match(/<[^>.]+/g)?.map((p) => p.slice(1)) ?? [];
  const required = ctx.required.filter((o) => !positionals.includes(o)).map((o) => `--${o} <${o}>`);
  return `torchport ${[ctx.command, ...required].join(' ')} [options]; see torchport ${name} --help`;
}

const list = (items: string[]): string => (items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`);

function unknown(names: string[], ctx: UsageContext): string {
  const flags = names.filter((n) => ctx.argv.some((a) => a === `--${n}` || a.startsWith(`--${n}=`) || a === `-${n}` || a === `--no-${n}`));
  const extra = names.filter((n) => !flags.includes(n));
  if (flags.length > 0) {
    const closest = flags.length === 1 ? closestName(flags[0], ctx.options.filter((o) => o.length > 1), 3) : undefined;
    return `unknown option${flags.length > 1 ? 's' : ''} ${list(flags.map((f) => `--${f}`))}${closest ? ` (did you mean --${closest}?)` : ''}`;
  }
  return `unexpected argument${extra.length > 1 ? 's' : ''} ${list(extra.map((e) => `'${e}'`))}`;
}

/** One line for yargs' message `msg`, then the usage line. */
export function rephraseUsageError(msg: string, ctx: UsageContext): string {
  const positionals = ctx.command?.match(/<[^>]+>/g) ?? [];
  const flag = (name: string) => (positionals.some((p) => p.replace(/[<>.]/g, '') === name) ? `<${name}>` : `--${name}`);
  let m: RegExpExecArray | null;
  let text = msg;
  if ((m = /^Unknown arguments?: (.+)$/s.exec(msg))) text = unknown(m[1].split(', '), ctx);
  else if ((m = /^Missing required arguments?: (.+)$/.exec(msg))) text = `missing ${list(m[1].split(', ').map(flag))}`;
  else if ((m = /^Not enough non-option arguments: got (\d+), need at least \d+$/.exec(msg))) text = `missing ${list(positionals.slice(Number(m[1])))}`;
  else if ((m = /^Invalid values:\s+Argument: (\S+), Given: (.+), Choices: (.+)$/s.exec(msg))) text = `${flag(m[1])} must be one of ${m[3].replace(/"/g, '')}, got ${m[2]}`;
  return `${text}\nusage: ${usageLine(ctx)}`;
}

/** yargs reads `--train abc` as NaN: the first number option given a non-number, in words. */
export function notANumber(parsed: Record<string, unknown>, numberOptions: string[], argv: string[]): string | undefined {
  const key = numberOptions.find((k) => Number.isNaN(parsed[k]));
  if (key === undefined) return undefined;
  const at = argv.findIndex((a) => a === `--${key}` || a.startsWith(`--${key}=`));
  const given = at < 0 ? undefined : argv[at].includes('=') ? argv[at].slice(argv[at].indexOf('=') + 1) : argv[at + 1];
  return `--${key} expects a number${given === undefined ? '' : `, got '${given}'`}`;
}
