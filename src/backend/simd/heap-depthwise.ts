// Runs the generated depthwise convolution (depthwise-kernel.ts) on the wasm backend's heap, one
// output row per call: the rows of the filter that fall inside the input are chosen here.
import { BLOCK_VECTORS, depthwiseModule } from './depthwise-kernel.js';
import { kernelOnHeap } from './relaxed-simd.js';

type Row = (x: number, w: number, bias: number, out: number, outWidth: number, channels: number, stride: number, kw: number, padLeft: number, inWidth: number, rows: number, relu: number) => void;

/** An NHWC depthwise convolution (channel multiplier 1, dilation 1) with each padding smaller than the filter. */
export interface DepthwiseShape {
  batch: number;
  inHeight: number;
  inWidth: number;
  channels: number;
  outHeight: number;
  outWidth: number;
  strideHeight: number;
  strideWidth: number;
  filterHeight: number;
  filterWidth: number;
  padTop: number;
  padLeft: number;
}

/** Channel counts the kernel takes: whole blocks of its smallest channel block. */
export const DEPTHWISE_CHANNEL_MULTIPLE = 4 * Math.min(...BLOCK_VECTORS);

export class HeapDepthwise {
  private readonly rows: Array<[number, Row]>;

  constructor(exports: WebAssembly.Exports) {
    this.rows = BLOCK_VECTORS.map((v) => [v, exports[`depthwiseRow${v}`] as Row]);
  }

  /** out = x ⊛ w (+ bias, clamped at 0 if relu); byte addresses; `bias` 0 for none. */
  run(x: number, w: number, bias: number, out: number, s: DepthwiseShape, relu: boolean): void {
    const [, row] = this.rows.find(([v]) => s.channels % (4 * v) === 0)!;
    const pixelBytes = s.channels * 4;
    for (let n = 0; n < s.batch; n++) {
      const image = x + n * s.inHeight * s.inWidth * pixelBytes;
      for (let oy = 0; oy < s.outHeight; oy++) {
        const iy = oy * s.strideHeight - s.padTop;
        const first = Math.max(0, -iy);
        const last = Math.min(s.filterHeight, s.inHeight - iy);
        const outRow = out + ((n * s.outHeight + oy) * s.outWidth) * pixelBytes;
        row(image + (iy + first) * s.inWidth * pixelBytes, w + first * s.filterWidth * pixelBytes, bias, outRow, s.outWidth, s.channels, s.strideWidth, s.filterWidth, s.padLeft, s.inWidth, last - first, relu ? 1 : 0);
      }
    }
  }
}

/** The depthwise kernel over `memory`, or undefined where relaxed SIMD is unavailable or the memory cannot be imported. */
export const heapDepthwise = (memory: WebAssembly.Memory): HeapDepthwise | undefined => kernelOnHeap(memory, depthwiseModule, (exports) => new HeapDepthwise(exports));
