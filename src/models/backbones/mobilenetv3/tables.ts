// MobileNetV3 layer tables (Howard et al. 2019, tables 1 and 2), one row per inverted-residual
// block. `expanded` is torchvision's absolute width (scaled by widthMult); `ratio` is d-li14's
// expansion ratio (applied to the already-rounded input width). At width 1.0 both give the same
// channels; at other widths they differ (e.g. small block 3 at 0.5: torchvision 48, d-li14 56).

export interface BlockRow {
  kernel: number;
  expanded: number;
  ratio: number;
  out: number;
  se: boolean;
  activation: 'relu' | 'hardswish';
  stride: number;
}

function row(kernel: number, expanded: number, ratio: number, out: number, se: boolean, hs: boolean, stride: number): BlockRow {
  return { kernel, expanded, ratio, out, se, activation: hs ? 'hardswish' : 'relu', stride };
}

export const LARGE: readonly BlockRow[] = [
  row(3, 16, 1, 16, false, false, 1),
  row(3, 64, 4, 24, false, false, 2),
  row(3, 72, 3, 24, false, false, 1),
  row(5, 72, 3, 40, true, false, 2),
  row(5, 120, 3, 40, true, false, 1),
  row(5, 120, 3, 40, true, false, 1),
  row(3, 240, 6, 80, false, true, 2),
  row(3, 200, 2.5, 80, false, true, 1),
  row(3, 184, 2.3, 80, false, true, 1),
  row(3, 184, 2.3, 80, false, true, 1),
  row(3, 480, 6, 112, true, true, 1),
  row(3, 672, 6, 112, true, true, 1),
  row(5, 672, 6, 160, true, true, 2),
  row(5, 960, 6, 160, true, true, 1),
  row(5, 960, 6, 160, true, true, 1),
];

export const SMALL: readonly BlockRow[] = [
  row(3, 16, 1, 16, true, false, 2),
  row(3, 72, 4.5, 24, false, false, 2),
  row(3, 88, 3.67, 24, false, false, 1),
  row(5, 96, 4, 40, true, true, 2),
  row(5, 240, 6, 40, true, true, 1),
  row(5, 240, 6, 40, true, true, 1),
  row(5, 120, 3, 48, true, true, 1),
  row(5, 144, 3, 48, true, true, 1),
  row(5, 288, 6, 96, true, true, 2),
  row(5, 576, 6, 96, true, true, 1),
  row(5, 576, 6, 96, true, true, 1),
];

/** Stem output channels (before width scaling) and classifier hidden width (large 1280, small 1024). */
export const STEM_CHANNELS = 16;
export const CLASSIFIER_HIDDEN = { large: 1280, small: 1024 } as const;
