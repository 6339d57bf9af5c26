// Benchmark (not a test): fuzzes the checkpoint reader with mutations of the committed fixtures (bit
// flips, truncations, splices, opcode swaps, huge lengths and counts, deep nesting) and reports
// crashes (anything thrown that is not an InputError), hangs (a case over 1 s) and peak RSS.
// Cases run in a worker thread of this process; one that runs past the kill limit is ended with the
// worker and counted as a hang. The same seed gives the same cases.
// Run: node --import tsx bench/fuzz-reader.ts [--cases 100000] [--seconds 600] [--seed 1]
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { crc32 } from 'node:zlib';
import { bufferSource } from '../src/checkpoint/byte-source.js';
import { createRng } from '../src/data/rng.js';
import { extractStateDict } from '../src/checkpoint/extract.js';
import { readCheckpointBytes } from '../src/checkpoint/read.js';
import { readZipDirectory, recordStart } from '../src/checkpoint/zip-directory.js';
import { InputError } from '../src/errors.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'checkpoints');
const HANG_MS = 1000;
const KILL_MS = 10_000;

interface Seed { name: string; bytes: Buffer; pickle: [number, number] }
interface CaseResult { i: number; ms: number; crash?: string }

/** The good fixtures, each with the byte range of its object pickle (zip: the data.pkl record). */
function seeds(): Seed[] {
  const names = readdirSync(FIXTURES).filter((n) => n.endsWith('.pth') && readdirSync(FIXTURES).includes(n.replace(/\.pth$/, '.expected.json')));
  return names.map((name) => {
    const bytes = readFileSync(join(FIXTURES, name));
    let pickle: [number, number] = [0, bytes.length];
    if (bytes.readUInt32LE(0) === 0x04034b50) {
      const src = bufferSource(bytes);
      const rec = readZipDirectory(src).find((r) => r.name.endsWith('/data.pkl'))!;
      const start = recordStart(src, rec);
      pickle = [start, start + rec.compressedSize];
    }
    return { name, bytes, pickle };
  });
}

/** A stored-only zip archive, as torch writes: enough to wrap a synthetic data.pkl. */
function zipOf(records: Array<[string, Buffer]>): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of records) {
    const n = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(n.length, 26);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(data.length, 20);
    cd.writeUInt32LE(data.length, 24);
    cd.writeUInt16LE(n.length, 28);
    cd.writeUInt32LE(offset, 42);
    parts.push(local, n, data);
    central.push(cd, n);
    offset += 30 + n.length + data.length;
  }
  const cdBytes = Buffer.concat(central);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(records.length, 8);
  eocd.writeUInt16LE(records.length, 10);
  eocd.writeUInt32LE(cdBytes.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, cdBytes, eocd]);
}

/** Opcodes that build containers or call things: the interesting ones to swap in. */
const OPCODES = [...'()]}.0123abceghijloprstuqPQRVXBCNKJMGF', '\x80', '\x81', '\x85', '\x86', '\x87', '\x88', '\x89', '\x8a', '\x8b', '\x8c', '\x8d', '\x8e', '\x8f', '\x90', '\x91', '\x92', '\x93', '\x94', '\x95', '\x96', '\x97', '\x98']
  .map((c) => c.charCodeAt(0));
const HUGE = [0xffffffff, 0x7fffffff, 0x80000000, 0x10000000, 0xfffffffe];

function mutate(seedList: Seed[], rand: () => number): { kind: string; name: string; bytes: Buffer } {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  const s = pick(seedList);
  const at = (lo: number, hi: number) => lo + Math.floor(rand() * Math.max(1, hi - lo));
  const inPickle = () => (rand() < 0.7 ? at(s.pickle[0], s.pickle[1]) : at(0, s.bytes.length));
  const b = Buffer.from(s.bytes);
  // deep nesting builds up to a million containers per case: 1 case in 20
  const kind = rand() < 0.05 ? 'nesting' : pick(['bitflip', 'bytes', 'truncate', 'splice', 'opcode', 'huge']);
  switch (kind) {
    case 'bitflip':
      for (let k = 1 + Math.floor(rand() * 8); k > 0; k--) { const p = inPickle(); b[p] ^= 1 << Math.floor(rand() * 8); }
      return { kind, name: s.name, bytes: b };
    case 'bytes':
      for (let k = 1 + Math.floor(rand() * 4); k > 0; k--) b[inPickle()] = Math.floor(rand() * 256);
      return { kind, name: s.name, bytes: b };
    case 'truncate':
      return { kind, name: s.name, bytes: b.subarray(0, at(0, b.length)) };
    case 'splice': {
      const other = pick(seedList).bytes;
      const from = at(0, other.length);
      const len = Math.min(other.length - from, 1 + Math.floor(rand() * 256));
      const to = inPickle();
      return { kind, name: s.name, bytes: rand() < 0.5 ? Buffer.concat([b.subarray(0, to), other.subarray(from, from + len), b.subarray(to)]) : Buffer.concat([b.subarray(0, to), other.subarray(from, from + len), b.subarray(to + len)]) };
    }
    case 'opcode':
      for (let k = 1 + Math.floor(rand() * 3); k > 0; k--) b[inPickle()] = pick(OPCODES);
      return { kind, name: s.name, bytes: b };
    case 'huge': {
      const p = Math.min(inPickle(), b.length - 8);
      if (rand() < 0.5) b.writeUInt32LE(pick(HUGE), Math.max(0, p));
      else b.writeBigUInt64LE(BigInt(pick(HUGE)) * BigInt(1 + Math.floor(rand() * 0xffff)), Math.max(0, p));
      return { kind, name: s.name, bytes: b };
    }
    default: {
      // deep nesting: a data.pkl of nested lists, dicts, tuples or MARKs, wrapped in a valid zip
      const depth = pick([1000, 10_000, 100_000, 1_000_000]);
      const shape = pick(['lists', 'marks', 'dicts', 'tuples']);
      const body = shape === 'lists' ? ']'.repeat(depth) + 'a'.repeat(depth - 1)
        : shape === 'marks' ? '('.repeat(depth) + 'N'
          : shape === 'dicts' ? '}K\x01'.repeat(depth - 1) + '}' + 's'.repeat(depth - 1)
            : 'N\x85'.repeat(1) + '\x85'.repeat(depth);
      const pkl = Buffer.from(`\x80\x02${body}.`, 'latin1');
      return { kind: `nesting-${shape}-${depth}`, name: 'nested', bytes: zipOf([['nested/data.pkl', pkl], ['nested/version', Buffer.from('3\n')]]) };
    }
  }
}

function runCase(bytes: Buffer, name: string, verify: boolean): string | undefined {
  try {
    const { object } = readCheckpointBytes(bytes, name, { verify });
    extractStateDict(object, { file: name });
  } catch (err) {
    if (err instanceof InputError) {
      if (err.message.includes('\n')) return `multi-line InputError: ${err.message.slice(0, 200)}`;
      return undefined;
    }
    return (err as Error)?.stack ?? String(err);
  }
  return undefined;
}

if (!isMainThread) {
  const { start, end, seed } = workerData as { start: number; end: number; seed: number };
  const list = seeds();
  for (let i = start; i < end; i++) {
    const rand = createRng(seed * 1_000_003 + i);
    const m = mutate(list, rand);
    parentPort!.postMessage({ started: i, kind: m.kind, name: m.name });
    const t = performance.now();
    const crash = runCase(m.bytes, m.name, i % 2 === 0);
    parentPort!.postMessage({ i, ms: performance.now() - t, crash: crash && `${m.kind} of ${m.name} (case ${i}, ${i % 2 === 0 ? 'verify' : 'no-verify'}): ${crash}` } satisfies CaseResult);
  }
} else {
  const { values } = parseArgs({ options: { cases: { type: 'string', default: '100000' }, seconds: { type: 'string', default: '600' }, seed: { type: 'string', default: '1' } } });
  const total = Number(values.cases);
  const budgetMs = Number(values.seconds) * 1000;
  const seed = Number(values.seed);
  const began = performance.now();
  const crashes: string[] = [];
  const hangs: string[] = [];
  const hangKinds = new Map<string, number>();
  const hang = (kind: string, line: string) => {
    hangs.push(line);
    hangKinds.set(kind, (hangKinds.get(kind) ?? 0) + 1);
  };
  const kinds = new Map<string, number>();
  let done = 0;
  let slowest = 0;
  let next = 0;
  const runFrom = (start: number): Promise<void> => new Promise((resolve) => {
    // A worker does not inherit tsx's loader: register it, then load this file in the worker.
    const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); })`;
    const worker = new Worker(boot, { eval: true, workerData: { start, end: total, seed } });
    let current = { i: start, kind: '', name: '', at: performance.now() };
    const watchdog = setInterval(() => {
      const now = performance.now();
      if (now - current.at > KILL_MS) {
        hang(current.kind, `${current.kind} of ${current.name} (case ${current.i}): killed after ${KILL_MS} ms`);
        next = current.i + 1;
        done++;
        clearInterval(watchdog);
        void worker.terminate().then(() => resolve());
      } else if (now - began > budgetMs) {
        next = total;
        clearInterval(watchdog);
        void worker.terminate().then(() => resolve());
      }
    }, 200);
    worker.on('message', (msg: CaseResult | { started: number; kind: string; name: string }) => {
      if ('started' in msg) {
        current = { i: msg.started, kind: msg.kind, name: msg.name, at: performance.now() };
        kinds.set(msg.kind.split('-')[0], (kinds.get(msg.kind.split('-')[0]) ?? 0) + 1);
        return;
      }
      done++;
      slowest = Math.max(slowest, msg.ms);
      if (msg.crash) crashes.push(msg.crash);
      if (msg.ms > HANG_MS) hang(current.kind, `${current.kind} of ${current.name} (case ${msg.i}): ${msg.ms.toFixed(0)} ms`);
      if (done % 10_000 === 0) process.stderr.write(`${done} cases, ${crashes.length} crashes, ${hangs.length} hangs, ${((performance.now() - began) / 1000).toFixed(0)} s\n`);
    });
    worker.on('error', (err) => {
      crashes.push(`worker died in case ${current.i}: ${err.stack}`);
      // a worker that dies before its first case would die again: stop
      next = current.kind ? current.i + 1 : total;
      clearInterval(watchdog);
      resolve();
    });
    worker.on('exit', () => { clearInterval(watchdog); if (next <= current.i) next = total; resolve(); });
  });
  while (next < total) await runFrom(next);
  const seconds = (performance.now() - began) / 1000;
  const peakRss = process.resourceUsage().maxRSS * 1024;
  console.log([
    `node ${process.version}, ${os.cpus().length} × ${os.cpus()[0].model}, load average ${os.loadavg()[0].toFixed(1)}`,
    `${done} of ${total} cases in ${seconds.toFixed(0)} s (${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}); seed ${seed}`,
    `crashes (not InputError): ${crashes.length}`,
    ...crashes.slice(0, 10).map((c) => `  ${c.split('\n').slice(0, 6).join('\n    ')}`),
    `hangs (over ${HANG_MS} ms): ${hangs.length} (${[...hangKinds].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}); slowest case ${slowest.toFixed(0)} ms`,
    ...hangs.slice(0, 10).map((h) => `  ${h}`),
    `peak RSS of the process: ${(peakRss / 1e6).toFixed(0)} MB`,
  ].join('\n'));
  process.exitCode = crashes.length || hangs.length ? 1 : 0;
}
