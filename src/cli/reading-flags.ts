// The checkpoint-reading flags every command that reads a PyTorch checkpoint accepts (inspect, diff,
// convert, finetune), so no message can suggest a flag that some command rejects.
import type { Argv } from 'yargs';
import type { ReadOptions } from '../checkpoint/read.js';

export interface ReadingArgs {
  strict?: boolean;
  verify?: boolean;
}

export function withReadingArgs<T>(y: Argv<T>) {
  return y
    .option('strict', { type: 'boolean', describe: 'refuse any Python class outside the checkpoint allowlist (default: keep unknown classes as inert placeholders, with a warning)' })
    .option('verify', { type: 'boolean', default: true, describe: "check every zip record's CRC-32 (--no-verify skips it)" });
}

export function readOptionsOf(argv: ReadingArgs): ReadOptions {
  return { strict: argv.strict === true, verify: argv.verify !== false };
}
