// A model folder → the state dict of a PyTorch layout, as tensors produced one at a time for the
// writer. Two ways to name the keys:
// - the layout the weights came from (convert's record): the checkpoint's own keys, order, dtypes,
//   shapes, wrapping and `_metadata`, and the tensors the model did not take, byte for byte;
// - any other layout (or a folder without a record, e.g. a fine-tuning checkpoint): keys derived
//   from the layout's rules (src/mapping/reverse.ts), BatchNorm step counters where the layout
//   carries them, source dtypes where the record knows them.
import type { OutTensor } from '../checkpoint/out-tensor.js';
import { fromFloat32 } from '../checkpoint/narrow.js';
import { toFloat32 } from '../checkpoint/dtype.js';
import type { DType, TensorData, TorchTensor } from '../checkpoint/types.js';
import { InputError } from '../errors.js';
import { permute } from '../mapping/layout.js';
import { loadMapping } from '../mapping/load.js';
import { counterKeys, keyHints, type KeyHints } from '../mapping/reverse.js';
import type { ParamKind } from '../mapping/params.js';
import { PREDICTOR_WEIGHT, reorderClasses, type ClassLayout } from './class-order.js';
import { chooseLayout, type ChosenLayout } from './layouts.js';
import { readModelFolder, type FolderWeight, type FolderWeights } from './model-folder.js';
import { Scratch, streamTorchBytes, torchPermutation } from './torch-bytes.js';

export const EXPORT_DTYPES = ['source', 'float32', 'float16', 'bfloat16'] as const;
export type ExportDtype = (typeof EXPORT_DTYPES)[number];

export interface ExportOptions {
  /** torchvision | mmdet | dli14 | timm; default: the layout the weights came from. */
  layout?: string;
  /** Floating tensors' dtype: 'source' (default) keeps each tensor's recorded dtype (float32 when unknown). */
  dtype?: ExportDtype;
}

export interface ExportedStateDict {
  folder: FolderWeights;
  layout: ChosenLayout;
  tensors: OutTensor[];
  /** 'raw': the state dict is the file's top-level object; else the top-level key holding it. */
  container: string;
  /** The state dict's `_metadata`, when the source had one. */
  metadata?: Array<[string, Record<string, number | string>]>;
  /** True when the keys are the converted checkpoint's own (bit-exact round trip). */
  exact: boolean;
  classNames?: string[];
}

const FLOATS: ReadonlySet<DType> = new Set(['float32', 'float16', 'bfloat16', 'float64']);

/**
 * The streaming buffers (~18 MB for the 320 detector), made at the first export and kept for every
 * later one of the process: fresh memory costs ~3 ms per MB to first touch here. Safe to share: a
 * weight's pieces are all made and handed over within its own stream() call.
 */
let scratch: Scratch | undefined;
const sharedScratch = (): Scratch => (scratch ??= new Scratch());

/** PyTorch's shape for a parameter of `kind` with TF.js shape `shape`. */
function torchShape(kind: ParamKind, shape: number[], conv1x1: boolean): number[] {
  switch (kind) {
    case 'conv2d': return [shape[3], shape[2], shape[0], shape[1]];
    case 'depthwise': return [shape[2], 1, shape[0], shape[1]];
    case 'dense': return conv1x1 ? [shape[1], shape[0], 1, 1] : [shape[1], shape[0]];
    case 'vector': return [...shape];
  }
}

/** TF.js-layout float32 → the checkpoint's layout `sourceShape`, as `dtype`. */
function toTorch(name: string, kind: ParamKind, w: { shape: number[]; data: Float32Array }, sourceShape: number[], dtype: DType): TensorData {
  return fromFloat32(permute(w.data, w.shape, torchPermutation(name, kind, w.shape, sourceShape)), dtype);
}

function outDtype(recorded: DType | undefined, wanted: ExportDtype): DType {
  if (wanted !== 'source') return wanted;
  return recorded ?? 'float32';
}

/** An extra tensor (kept by convert) as written: floats follow --dtype, everything else as it was. */
function extraTensor(key: string, t: TorchTensor, wanted: ExportDtype): OutTensor {
  const dtype = FLOATS.has(t.dtype) && wanted !== 'source' ? wanted : t.dtype;
  return { key, dtype, shape: t.shape, data: () => (dtype === t.dtype ? t.data : fromFloat32(toFloat32(t), dtype)) };
}

/** The converted checkpoint's keys as hints for deriving another mapping's keys (made once, when first asked). */
function hintsOf(folder: FolderWeights): () => KeyHints {
  let hints: KeyHints | undefined;
  return () => (hints ??= recordHints(folder));
}

function recordHints(folder: FolderWeights): KeyHints {
  if (!folder.source) return new Map();
  const mapping = loadMapping(folder.source.record.mapping);
  const keys = folder.source.record.tensors.filter((t) => t.target !== undefined).map((t) => t.key);
  return keyHints(keys, mapping, folder.model, new Set(folder.specs.map((s) => s.name)));
}

export function buildExport(dir: string, opts: ExportOptions = {}): ExportedStateDict {
  const folder = readModelFolder(dir);
  const wanted = opts.dtype ?? 'source';
  if (!(EXPORT_DTYPES as readonly string[]).includes(wanted)) throw new InputError(`unknown dtype '${wanted}' (known: ${EXPORT_DTYPES.join(', ')})`);
  const layout = chooseLayout(folder, opts.layout, hintsOf(folder));
  const kinds = new Map(folder.specs.map((s) => [s.name, s.kind]));
  const from = (folder.facts.classLayout as ClassLayout | undefined) ?? 'torchvision';
  /** The weight's values, read now, in the layout's class order. */
  const weight = (name: string) => {
    const w = folder.weights.get(name) as FolderWeight;
    const data = w.read();
    const numClasses = folder.weights.get(name.replace(/(cls_score|bbox_pred)\.(weight|bias)$/, 'cls_score.bias'))?.shape[0] ?? 0;
    return reorderClasses(name, w.shape, data, from, layout.classLayout, numClasses) ?? { shape: w.shape, data };
  };
  // Weights the class layout leaves alone are streamed to the writer through buffers all share.
  const streamer = (name: string, kind: ParamKind, sourceShape: number[], dtype: DType): OutTensor['stream'] => {
    if (from !== layout.classLayout && PREDICTOR_WEIGHT.test(name)) return undefined;
    return (write) => streamTorchBytes(name, kind, folder.weights.get(name) as FolderWeight, sourceShape, dtype, sharedScratch(), write);
  };
  const record = folder.source?.record;
  const extras = folder.source?.extras ?? new Map<string, TorchTensor>();
  const classNames = folder.meta.classNames ?? (folder.facts.classNames as string[] | undefined);

  if (record && record.mapping === layout.mapping.name) {
    const prefix = record.strippedPrefix ?? '';
    const tensors = record.tensors.map((t): OutTensor => {
      const key = prefix + t.key;
      const original = extras.get(t.key);
      if (t.target === undefined) return extraTensor(key, original as TorchTensor, wanted);
      const target = t.target;
      const kind = kinds.get(target) as ParamKind;
      const dtype = outDtype(t.dtype, wanted);
      return {
        key, dtype, shape: t.shape,
        // A float64 original may be written as it was (below): that needs the whole tensor.
        stream: dtype === 'float64' ? undefined : streamer(target, kind, t.shape, dtype),
        data: () => {
          const values = toTorch(target, kind, weight(target), t.shape, 'float32') as Float32Array;
          // A float64 original whose float32 image the model still holds is written as it was.
          if (original && dtype === 'float64' && toFloat32(original).every((v, i) => Object.is(v, values[i]))) return original.data;
          return fromFloat32(values, dtype);
        },
      };
    });
    const metadata = record.metadata.map(([k, v]): [string, Record<string, number | string>] => [
      prefix && k === '' ? prefix.slice(0, -1) : prefix + k, v as Record<string, number | string>]);
    return { folder, layout, tensors, container: record.container, metadata: metadata.length ? metadata : undefined, exact: true, classNames };
  }

  // Keys from the layout's rules; dtypes and step counters from the record where it has them.
  const sourceDtype = new Map(record?.tensors.filter((t) => t.target).map((t) => [t.target as string, t.dtype]) ?? []);
  const counters = new Map<string, TorchTensor>();
  for (const t of record?.tensors ?? []) {
    const sibling = t.key.endsWith('.num_batches_tracked') ? record?.tensors.find((r) => r.key === `${t.key.slice(0, -'num_batches_tracked'.length)}running_var`) : undefined;
    const counter = extras.get(t.key);
    if (sibling?.target && counter) counters.set(sibling.target, counter);
  }
  const names = new Set(folder.specs.map((s) => s.name));
  const counterOf = counterKeys(layout.names.keys.values(), layout.mapping, layout.model, names);
  const tensors: OutTensor[] = [];
  for (const spec of folder.specs) {
    const key = layout.names.keys.get(spec.name) as string;
    // Only the (small) predictor weights change shape with the class layout: read those now.
    const w = PREDICTOR_WEIGHT.test(spec.name) ? weight(spec.name) : (folder.weights.get(spec.name) as FolderWeight);
    const shape = torchShape(spec.kind, w.shape, layout.names.conv1x1.has(spec.name));
    const dtype = outDtype(sourceDtype.get(spec.name), wanted);
    tensors.push({ key, dtype, shape, data: () => toTorch(spec.name, spec.kind, weight(spec.name), shape, dtype), stream: streamer(spec.name, spec.kind, shape, dtype) });
    const counterKey = counterOf.get(key);
    if (counterKey) {
      const value = counters.get(spec.name);
      tensors.push(value ? extraTensor(counterKey, value, 'source') : { key: counterKey, dtype: 'int64', shape: [], data: () => new BigInt64Array(1) });
    }
  }
  const container = layout.mapping.name.startsWith('mmdet-') ? 'state_dict' : 'raw';
  return { folder, layout, tensors, container, exact: false, classNames };
}
