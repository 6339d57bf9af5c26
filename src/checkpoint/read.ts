// readCheckpoint: any file torch.save writes (zip or legacy container) → the top-level Python object
// with tensors materialised, without executing anything from the file.
import { readFileSync, statSync } from 'node:fs';
import { InputError } from '../errors.js';
import { makeGlobalResolver, RefusedGlobalError } from './globals.js';
import { readLegacyCheckpoint } from './legacy.js';
import { materialiseAll } from './materialise.js';
import { PickleError, unpickle } from './pickle.js';
import { looksLikeSafetensors, readSafetensors } from './safetensors.js';
import { openZipCheckpoint } from './zip.js';

export interface ReadOptions {
  /** Keep unknown (non-dangerous) globals as inert placeholders instead of refusing the file. */
  allowUnknownGlobals?: boolean;
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

export function readCheckpoint(path: string, opts: ReadOptions = {}): CheckpointFile {
  let bytes: Buffer;
  try {
    if (statSync(path).isDirectory()) throw new InputError('is a directory, not a checkpoint file', path);
    bytes = readFileSync(path);
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? (err as Error).message})`, path);
  }
  return readBuffer(bytes, path, opts, true);
}

/** Reads a checkpoint held in memory; `bytes` is not modified, and tensors may view it. */
export function readCheckpointBytes(bytes: Uint8Array, name: string, opts: ReadOptions = {}): CheckpointFile {
  return readBuffer(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), name, opts, false);
}

function readBuffer(buf: Buffer, name: string, opts: ReadOptions, owned: boolean): CheckpointFile {
  const resolver = makeGlobalResolver(opts.allowUnknownGlobals === true);
  let where = 'the pickle stream';
  try {
    let parsed: Omit<CheckpointFile, 'warnings'>;
    if (buf.length === 0) throw new InputError('is empty', name);
    if (name.endsWith('.safetensors') || looksLikeSafetensors(buf)) {
      const st = readSafetensors(buf, name);
      return { object: st.tensors, format: 'safetensors', protocol: 0, records: [...st.tensors.keys()].map(String), warnings: [] };
    }
    if (buf.length >= 4 && buf.readUInt32LE(0) === 0x04034b50) {
      const zip = openZipCheckpoint(buf, name);
      where = zip.pickleName;
      const { value, protocol } = unpickle(zip.pickle, 0, { resolveGlobal: resolver.resolve, persistentLoad: zip.persistentLoad });
      parsed = { object: value, format: 'zip', protocol, records: zip.records };
    } else if (LEGACY_FIRST_OPCODES.has(buf[0])) {
      const legacy = readLegacyCheckpoint(buf, name, resolver.resolve, owned);
      parsed = { ...legacy, format: 'legacy' };
    } else if (buf.length > 262 && buf.toString('latin1', 257, 262) === 'ustar') {
      throw new InputError('is a tar-format checkpoint (PyTorch before 0.4), which torchport does not read', name);
    } else {
      throw new InputError(`is not a PyTorch checkpoint: neither a zip archive nor a pickle stream (starts with 0x${buf.subarray(0, 4).toString('hex')})`, name);
    }
    const object = materialiseAll(parsed.object, { file: name, copyBudget: COPY_BUDGET_FACTOR * buf.length + COPY_BUDGET_SLACK });
    const warnings = resolver.placeholders.map((g) => `unknown global '${g}' kept as an inert placeholder`);
    return { ...parsed, object, warnings };
  } catch (err) {
    if (err instanceof InputError) throw err;
    if (err instanceof RefusedGlobalError) throw new InputError(err.message, name);
    if (err instanceof PickleError) throw new InputError(`corrupted pickle stream (${where}, byte ${err.offset}): ${err.message}`, name);
    // Anything else thrown while decoding untrusted bytes is still bad input, reported on one line.
    throw Object.assign(new InputError(`cannot be read (${(err as Error).message})`, name), { cause: err });
  }
}
