// readCheckpoint: any file torch.save writes (zip or legacy container) → the top-level Python object
// with tensors materialised, without executing anything from the file.
import { statSync } from 'node:fs';
import { InputError, InternalError } from '../errors.js';
import { bufferSource, FileSource, type ByteSource } from './byte-source.js';
import { makeGlobalResolver, RefusedGlobalError } from './globals.js';
import { readLegacyCheckpoint } from './legacy.js';
import { materialiseAll } from './materialise.js';
import { PickleError, unpickle } from './pickle.js';
import { looksLikeSafetensors, readSafetensors } from './safetensors.js';
import { openZipCheckpoint } from './zip.js';

/** How a checkpoint is read; the CLI's reading flags (`--strict`, `--no-verify`) set these. */
export interface ReadOptions {
  /** Refuse every class or function outside the allowlist. Default: keep unknown ones as inert
   * placeholders, each named in `warnings` (globals that can run code are refused either way). */
  strict?: boolean;
  /** Check each zip record's CRC-32 when it is read (default true). */
  verify?: boolean;
  /** Zip files: read each tensor's bytes only when its `data` is first used (records are then checked
   * on first use; records never used are never read). Default: read and check everything now. */
  lazy?: boolean;
}

export interface CheckpointFile {
  /** The top-level Python object: dicts are Maps, tensors are CheckpointTensors. */
  object: unknown;
  format: 'zip' | 'legacy' | 'safetensors';
  /** Pickle protocol of the object's pickle. */
  protocol: number;
  /** Zip: archive member names. Legacy: storage keys in file order. */
  records: string[];
  warnings: string[];
}

/** PROTO, or the magic number pickled with protocol 0/1 (LONG) or with LONG1. */
const LEGACY_FIRST_OPCODES = new Set([0x80, 0x4c, 0x8a]);

/** Copies of strided or unaligned tensors may use at most this much beyond the file size. */
const COPY_BUDGET_FACTOR = 4;
const COPY_BUDGET_SLACK = 64 << 20;

/** Legacy and safetensors files are read whole into one buffer, which can hold at most this much. */
const MAX_WHOLE_FILE_BYTES = 2 ** 32 - 1;

export function readCheckpoint(path: string, opts: ReadOptions = {}): CheckpointFile {
  let src: FileSource;
  try {
    if (statSync(path).isDirectory()) throw new InputError('is a directory, not a checkpoint file', path);
    src = new FileSource(path);
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? (err as Error).message})`, path);
  }
  try {
    return readSource(src, path, opts);
  } finally {
    src.close();
  }
}

/** Reads a checkpoint held in memory; `bytes` is not modified, and tensors may view it. */
export function readCheckpointBytes(bytes: Uint8Array, name: string, opts: ReadOptions = {}): CheckpointFile {
  return readSource(bufferSource(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)), name, opts);
}

function readSource(src: ByteSource, name: string, opts: ReadOptions): CheckpointFile {
  const resolver = makeGlobalResolver(opts.strict === true);
  const lazy = opts.lazy === true;
  let where = 'the pickle stream';
  try {
    let parsed: Omit<CheckpointFile, 'warnings'>;
    if (src.size === 0) throw new InputError('is empty', name);
    const head = src.read(0, Math.min(src.size, 262));
    const whole = (format: string): Buffer => {
      if (src.size > MAX_WHOLE_FILE_BYTES) throw new InputError(`is a ${format} file over 4 GiB, which torchport does not read`, name);
      return src.read(0, src.size);
    };
    if (name.endsWith('.safetensors') || looksLikeSafetensors(head)) {
      const st = readSafetensors(whole('safetensors'), name);
      return { object: st.tensors, format: 'safetensors', protocol: 0, records: [...st.tensors.keys()].map(String), warnings: [] };
    }
    let verifyUnread = (): void => {};
    if (head.length >= 4 && head.readUInt32LE(0) === 0x04034b50) {
      const zip = openZipCheckpoint(src, name, opts.verify !== false);
      where = zip.pickleName;
      const { value, protocol } = unpickle(zip.pickle, 0, { resolveGlobal: resolver.resolve, persistentLoad: zip.persistentLoad });
      parsed = { object: value, format: 'zip', protocol, records: zip.records };
      if (opts.verify !== false && !lazy) verifyUnread = zip.verifyUnread;
    } else if (LEGACY_FIRST_OPCODES.has(head[0])) {
      // A file source returns a fresh buffer, which the legacy reader may rearrange in place.
      const legacy = readLegacyCheckpoint(whole('legacy-format'), name, resolver.resolve, src instanceof FileSource);
      parsed = { ...legacy, format: 'legacy' };
    } else if (head.length >= 262 && head.toString('latin1', 257, 262) === 'ustar') {
      throw new InputError('is a tar-format checkpoint (PyTorch before 0.4), which torchport does not read', name);
    } else {
      throw new InputError(`is not a PyTorch checkpoint: neither a zip archive nor a pickle stream (starts with 0x${head.subarray(0, 4).toString('hex')})`, name);
    }
    // A pickle that never names a tensor rebuild function holds no tensors: nothing to walk.
    const object = resolver.rebuildsTensors
      ? materialiseAll(parsed.object, { file: name, copyBudget: COPY_BUDGET_FACTOR * src.size + COPY_BUDGET_SLACK, lazy })
      : parsed.object;
    verifyUnread();
    const warnings = resolver.placeholders.map((g) => `unknown global '${g}' kept as an inert placeholder`);
    return { ...parsed, object, warnings };
  } catch (err) {
    if (err instanceof InputError) {
      err.message = oneLine(err.message);
      throw err;
    }
    if (err instanceof RefusedGlobalError) throw new InputError(oneLine(err.message), name);
    if (err instanceof PickleError) throw new InputError(oneLine(`corrupted pickle stream (${where}, byte ${err.offset}): ${err.message}`), name);
    // Only the reader's own checks describe bad input; anything else thrown here is a torchport bug.
    throw new InternalError(`internal error while reading ${name}: ${(err as Error)?.message ?? String(err)}; please report`, { cause: err });
  }
}

/** The reader's messages quote names and strings from the file: control characters there are escaped, so a message stays one line. */
function oneLine(message: string): string {
  return message.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
