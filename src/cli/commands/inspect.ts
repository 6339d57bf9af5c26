// `torchport inspect FILE`: what a checkpoint holds. Reads with the library (no TF.js) and renders.
import Table from 'cli-table3';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { inspectCheckpoint, type InspectReport } from '../../checkpoint/report.js';
import { writeStateDictNpy } from '../../checkpoint/npy-export.js';
import { readOptionsOf, withReadingArgs, type ReadingArgs } from '../reading-flags.js';
import { withExamples } from '../examples.js';

interface InspectArgs extends ReadingArgs {
  file: string;
  json?: boolean;
  filter?: string;
  key?: string;
  group?: boolean;
  npy?: string;
}

/** 1234567 → '1,234,567' (toLocaleString is slow to start: it loads ICU data). */
const fmt = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const plural = (n: number, word: string): string => `${fmt(n)} ${word}${n === 1 ? '' : 's'}`;

/** No colours (output is often piped) and no rule between rows. */
const TABLE_STYLE = {
  style: { head: [], border: [] },
  chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
};

function wrapper(r: InspectReport): string {
  const what = r.source === 'raw' ? 'none (the file is the state dict)' : r.source === '<root>' ? 'the whole file (a pickled module)' : `'${r.source}'`;
  return r.strippedPrefix ? `${what}, '${r.strippedPrefix}' prefix stripped` : what;
}

const CHUNK = 40;

/**
 * A cli-table3 table. cli-table3's layout is quadratic in the number of rows (0.4 s for 300), so
 * long tables are rendered as 40-row slices with shared column widths and joined.
 */
function renderTable(head: string[], colAligns: Array<'left' | 'right'>, rows: string[][]): string {
  const colWidths = head.map((h, c) => 2 + Math.max(h.length, ...rows.map((row) => row[c].length)));
  const lines: string[] = [];
  for (let i = 0; i === 0 || i < rows.length; i += CHUNK) {
    const table = new Table({ ...TABLE_STYLE, head: i === 0 ? head : [], colWidths, colAligns });
    table.push(...rows.slice(i, i + CHUNK));
    let part = table.toString().split('\n');
    if (i > 0) part = part.slice(1);
    if (i + CHUNK < rows.length) part = part.slice(0, -1);
    lines.push(...part);
  }
  return lines.join('\n');
}

function renderText(r: InspectReport, npyLine: string | undefined): string {
  const lines: string[] = [];
  const field = (name: string, value: string) => lines.push(`${name.padEnd(11)} ${value}`);
  field('file', r.file);
  field('format', `${r.format}, pickle protocol ${r.protocol}, ${fmt(r.records)} ${r.format === 'zip' ? 'records' : 'storages'}`);
  field('weights in', wrapper(r));
  const others = Object.entries(r.others);
  if (others.length) field('also holds', others.map(([k, v]) => `${k}: ${v}`).join('; '));
  const s = r.summary;
  field('tensors', s.tensors === r.totalTensors ? fmt(s.tensors) : `${fmt(s.tensors)} (of ${fmt(r.totalTensors)}, filtered)`);
  // Counted as diff and convert count a model's parameters: every floating-point value (weights
  // and buffers such as BatchNorm statistics); integer tensors (num_batches_tracked) are counters.
  const floating = Object.entries(s.byDtype).reduce((n, [dtype, t]) => n + (dtype.includes('float') ? t.numel : 0), 0);
  const counters = s.parameters - floating;
  field('parameters', `${fmt(floating)} (weights and buffers, as diff counts them)${counters ? `; ${fmt(counters)} more in integer tensors (counters such as num_batches_tracked)` : ''}`);
  field('bytes', `${fmt(s.bytes)}: ${Object.entries(s.byDtype).map(([d, t]) => `${d} ${fmt(t.bytes)} (${plural(t.tensors, 'tensor')})`).join(', ')}`);
  for (const n of r.notes) lines.push(`note: ${n}`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  if (npyLine) lines.push(npyLine);
  lines.push(r.groups
    ? renderTable(['keys', 'dtype', 'tensors', 'numel'], ['left', 'left', 'right', 'right'],
      r.groups.map((g) => [g.pattern, g.dtypes.join(', '), fmt(g.tensors), fmt(g.numel)]))
    : renderTable(['key', 'dtype', 'shape', 'numel'], ['left', 'left', 'left', 'right'],
      r.rows.map((t) => [t.key, t.quantized ? `${t.quantized.split(',')[0]} → float32` : t.dtype, `[${t.shape.join(', ')}]`, fmt(t.numel)])));
  return `${lines.join('\n')}\n`;
}

const command: CommandModule = {
  command: 'inspect <file>',
  describe: 'show what a PyTorch checkpoint holds',
  builder: (y: Argv) => withExamples(withReadingArgs(y), [
  ['inspect mobilenetv3-large-1cd25616.pth --group', 'what the file holds, numbered keys collapsed'],
  ['inspect model.pth --key state_dict --filter ^backbone --json', 'one sub-dict, some keys, as JSON'],
  ['inspect model.pth --npy tensors/', 'every tensor as tensors/<key>.npy'],
  ])
    .positional('file', { type: 'string', demandOption: true, describe: '.pth/.pt checkpoint (zip or legacy format)' })
    .option('json', { type: 'boolean', describe: 'print the report as JSON' })
    .option('filter', { type: 'string', describe: 'only keys matching this regular expression' })
    .option('key', { type: 'string', describe: 'take the state dict from this top-level key' })
    .option('group', { type: 'boolean', describe: 'collapse numbered keys (features.{1..15}.block.*)' })
    .option('npy', { type: 'string', describe: 'write each (filtered) tensor as DIR/<key>.npy' }),
  handler: async (argv: ArgumentsCamelCase) => {
    const args = argv as ArgumentsCamelCase<InspectArgs>;
    const { report, stateDict } = inspectCheckpoint(args.file, {
      key: args.key, filter: args.filter, group: args.group, read: readOptionsOf(args),
    });
    let npy: { dir: string; files: number; widened: string[] } | undefined;
    if (args.npy !== undefined) npy = { dir: args.npy, ...(await writeStateDictNpy(stateDict, args.npy)) };
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ ...report, ...(npy ? { npy } : {}) }, null, 2)}\n`);
      return;
    }
    const npyLine = npy && `wrote ${npy.files} .npy files to ${npy.dir}`
      + (npy.widened.length ? ` (${npy.widened.length} bfloat16 tensors widened to float32: ${npy.widened.join(', ')})` : '');
    process.stdout.write(renderText(report, npyLine));
  },
};

export default command;
