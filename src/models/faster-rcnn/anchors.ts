// Anchor generation in torchvision's form (per-level sizes x aspect ratios, base anchors rounded,
// stride = padded image size // feature size) and mmdetection's (base size = stride, times scales,
// for each ratio, centred at `centerOffset` of a cell, no rounding). Both order anchors the same
// way: row-major over feature cells, then the cell's anchors (ratio-major, scale-minor) — the order
// of the RPN head's NHWC outputs.
import type { AnchorConfig } from './config.js';

const f = Math.fround;

/** torch.round: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function numLevels(config: AnchorConfig): number {
  return config.type === 'torchvision' ? config.sizes.length : config.strides.length;
}

export function anchorsPerLocation(config: AnchorConfig, level: number): number {
  return config.type === 'torchvision'
    ? config.sizes[level].length * config.aspectRatios[level].length
    : config.scales.length * config.ratios.length;
}

/** Anchors of one cell at the origin, flat (x1, y1, x2, y2) rows. */
export function cellAnchors(config: AnchorConfig, level: number): Float32Array {
  const out: number[] = [];
  if (config.type === 'torchvision') {
    for (const ratio of config.aspectRatios[level]) {
      const hRatio = f(Math.sqrt(ratio));
      const wRatio = f(1 / hRatio);
      for (const size of config.sizes[level]) {
        const halfW = f(f(wRatio * size) / 2);
        const halfH = f(f(hRatio * size) / 2);
        out.push(roundHalfEven(-halfW), roundHalfEven(-halfH), roundHalfEven(halfW), roundHalfEven(halfH));
      }
    }
  } else {
    const base = config.strides[level];
    const centre = f((config.centerOffset ?? 0) * base);
    for (const ratio of config.ratios) {
      const hRatio = f(Math.sqrt(ratio));
      const wRatio = f(1 / hRatio);
      for (const scale of config.scales) {
        const w = f(f(base * wRatio) * scale);
        const h = f(f(base * hRatio) * scale);
        out.push(f(centre - f(0.5 * w)), f(centre - f(0.5 * h)), f(centre + f(0.5 * w)), f(centre + f(0.5 * h)));
      }
    }
  }
  return Float32Array.from(out);
}

/**
 * All anchors of every level, concatenated level after level (flat rows), for feature maps of
 * `featureSizes[l] = [h, w]` computed from a padded batch of `imageSize = [h, w]`.
 */
export function generateAnchors(
  config: AnchorConfig,
  featureSizes: Array<[number, number]>,
  imageSize: [number, number],
): { anchors: Float32Array; numPerLevel: number[] } {
  if (featureSizes.length !== numLevels(config)) {
    throw new Error(`the anchor config has ${numLevels(config)} levels but the neck gives ${featureSizes.length}`);
  }
  const numPerLevel = featureSizes.map(([h, w], l) => h * w * anchorsPerLocation(config, l));
  const anchors = new Float32Array(numPerLevel.reduce((a, b) => a + b, 0) * 4);
  let o = 0;
  featureSizes.forEach(([h, w], level) => {
    const strideY = config.type === 'torchvision' ? Math.floor(imageSize[0] / h) : config.strides[level];
    const strideX = config.type === 'torchvision' ? Math.floor(imageSize[1] / w) : config.strides[level];
    const cell = cellAnchors(config, level);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const sx = x * strideX;
        const sy = y * strideY;
        for (let a = 0; a < cell.length; a += 4) {
          anchors[o++] = sx + cell[a];
          anchors[o++] = sy + cell[a + 1];
          anchors[o++] = sx + cell[a + 2];
          anchors[o++] = sy + cell[a + 3];
        }
      }
    }
  });
  return { anchors, numPerLevel };
}
