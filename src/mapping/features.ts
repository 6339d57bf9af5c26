// Feature-layer facts for choosing a neck's inputs: per layer stride and channels, the last layer of
// each stride, a proposed `outIndices` for an FPN and the `inChannels` that indices imply.
import { InputError } from '../errors.js';
import type { FeatureInfo } from './params.js';

export interface FeatureRow extends FeatureInfo {
  /** The deepest layer with this stride (the usual FPN tap). */
  lastOfStride: boolean;
}

export interface OutIndicesChoice {
  outIndices: number[];
  inChannels: number[];
  strides: number[];
  /** Problems for an FPN (two levels at one stride, a skipped stride, coarse before fine). */
  warnings: string[];
  /** Taps that are fine but not the deepest layer of their stride. */
  notes: string[];
}

export function featureRows(info: FeatureInfo[]): FeatureRow[] {
  return info.map((f, i) => ({ ...f, lastOfStride: i === info.length - 1 || info[i + 1].stride !== f.stride }));
}

/** What a choice of feature layers gives a neck; bad indices are InputErrors. */
export function outIndicesChoice(info: FeatureInfo[], outIndices: number[]): OutIndicesChoice {
  if (info.length === 0) throw new InputError('this model publishes no feature layers (it is not a backbone)');
  const byIndex = new Map(info.map((f) => [f.index, f]));
  const last = info[info.length - 1].index;
  const seen = new Set<number>();
  for (const i of outIndices) {
    if (!Number.isInteger(i) || !byIndex.has(i)) throw new InputError(`out index ${i} is out of range (feature layers are 0..${last})`);
    if (seen.has(i)) throw new InputError(`out index ${i} is listed twice`);
    seen.add(i);
  }
  const chosen = outIndices.map((i) => byIndex.get(i)!);
  const strides = chosen.map((f) => f.stride);
  const warnings: string[] = [];
  for (let k = 1; k < chosen.length; k++) {
    if (strides[k] === strides[k - 1]) warnings.push(`layers ${chosen[k - 1].index} and ${chosen[k].index} both have stride ${strides[k]}: an FPN expects one level per stride`);
    else if (strides[k] < strides[k - 1]) warnings.push(`layer ${chosen[k].index} (stride ${strides[k]}) comes after a layer with stride ${strides[k - 1]}: FPN levels go from fine to coarse`);
    else if (strides[k] > 2 * strides[k - 1]) warnings.push(`no level between stride ${strides[k - 1]} and ${strides[k]}: an FPN level is skipped`);
  }
  const notes: string[] = [];
  for (const f of chosen) {
    const row = featureRows(info).find((r) => r.index === f.index)!;
    if (!row.lastOfStride) {
      const deeper = info.filter((g) => g.stride === f.stride).pop()!;
      notes.push(`layer ${f.index} is not the last layer of stride ${f.stride} (that is ${deeper.index}, ${deeper.channels} channels)`);
    }
  }
  return { outIndices, inChannels: chosen.map((f) => f.channels), strides, warnings, notes };
}

/** The last layer of each stride from 4 to 32: the taps an FPN usually takes. */
export function proposeOutIndices(info: FeatureInfo[]): OutIndicesChoice {
  const taps = featureRows(info).filter((r) => r.lastOfStride && r.stride >= 4 && r.stride <= 32).map((r) => r.index);
  return outIndicesChoice(info, taps);
}
