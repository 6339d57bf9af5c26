// Writing an exported state dict: `.pth` (torch.save's zip layout; mmdetection's layouts as
// `{meta, state_dict}`) or safetensors (flat keys; layout and classes in `__metadata__`). `meta`
// holds only strings and integers, which torch's `weights_only=True` loader accepts.
import { PyTuple, type PickleValue } from '../checkpoint/pickle-writer.js';
import { writeSafetensors } from '../checkpoint/write-safetensors.js';
import { writeStateDictPth } from '../checkpoint/write-pth.js';
import { InputError } from '../errors.js';
import { TORCHPORT_VERSION } from '../models/convert.js';
import { buildExport, type ExportedStateDict, type ExportOptions } from './state-dict.js';

export const STATE_DICT_FORMATS = ['pth', 'safetensors'] as const;
export type StateDictFormat = (typeof STATE_DICT_FORMATS)[number];

function meta(e: ExportedStateDict): Map<string, PickleValue> {
  const m = new Map<string, PickleValue>([
    ['exported_by', `torchport ${TORCHPORT_VERSION}`],
    ['layout', e.layout.mapping.name],
  ]);
  if (e.classNames) {
    // mmdetection 2.x reads meta['CLASSES'], 3.x meta['dataset_meta']['classes'].
    m.set('CLASSES', new PyTuple(e.classNames));
    m.set('dataset_meta', new Map<string, PickleValue>([['classes', new PyTuple(e.classNames)]]));
  }
  return m;
}

function writeExportedPth(out: string, e: ExportedStateDict): void {
  const mmdet = e.layout.mapping.name.startsWith('mmdet-');
  const wrapKey = mmdet ? 'state_dict' : e.container === 'raw' ? undefined : e.container;
  writeStateDictPth(out, e.tensors, { wrapKey, extra: mmdet ? [['meta', meta(e)]] : [], metadata: e.metadata });
}

function writeExportedSafetensors(out: string, e: ExportedStateDict): void {
  const metadata: Record<string, string> = { format: 'pt', exported_by: `torchport ${TORCHPORT_VERSION}`, layout: e.layout.mapping.name };
  if (e.classNames) metadata.classes = JSON.stringify(e.classNames);
  writeSafetensors(out, e.tensors, metadata);
}

export interface ExportStateDictOptions extends ExportOptions {
  format: StateDictFormat;
}

/** Exports a model folder (`torchport convert` output or a fine-tuning checkpoint) to `out`, atomically. */
export function exportStateDict(dir: string, out: string, opts: ExportStateDictOptions): ExportedStateDict {
  if (!(STATE_DICT_FORMATS as readonly string[]).includes(opts.format)) throw new InputError(`unknown format '${opts.format}' (known: ${STATE_DICT_FORMATS.join(', ')})`);
  const e = buildExport(dir, opts);
  e.folder.withOpenShards(() => (opts.format === 'pth' ? writeExportedPth(out, e) : writeExportedSafetensors(out, e)));
  return e;
}
