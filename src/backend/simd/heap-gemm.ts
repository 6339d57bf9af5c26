// Runs the relaxed-SIMD GEMM on the wasm backend's own heap: the module is instantiated over the
// backend's exported memory, so operands and results are addressed in place, with no copies.
import { compileRelaxedSimd, kernelOnHeap } from './relaxed-simd.js';
import { gemmModule, MR, NR } from './gemm-kernel.js';

type Gemm = (a: number, aTile: number, b: number, bPanel: number, c: number, ldc: number, depth: number, mTiles: number, nPanels: number, accumulate: number, bias: number, relu: number) => void;
type Pack = (x: number, kStride: number, jStride: number, packed: number, depth: number, panels: number) => void;
type PackRows = (b: number, kStride: number, packed: number, depth: number, nPanels: number) => void;

/**
 * Depth and rows per block: a packed A block (MC x KC floats) stays in the L2 cache while every
 * B panel block (KC x NR, 32 KiB) streams past it. Measured on the project machine with the box
 * head's products (150 and 512 RoIs).
 */
const KC = 1024;
const MC = 128;

/** A matrix in wasm memory: element (i, j) at `address + i·rowBytes + j·stepBytes`. */
export interface HeapMatrix {
  address: number;
  rowBytes: number;
  stepBytes: number;
}

/** Rounds a byte address up to a 64-byte cache line, so vector loads never straddle two lines. */
export const alignLine = (address: number) => (address + 63) & ~63;

export class HeapGemm {
  private readonly gemm: Gemm[];
  private readonly packTiles: Pack[];
  private readonly packPanels: Pack;
  private readonly packRows: PackRows;

  constructor(exports: WebAssembly.Exports) {
    this.gemm = Array.from({ length: MR }, (_, i) => exports[`gemm${i + 1}`] as Gemm);
    this.packTiles = Array.from({ length: MR }, (_, i) => exports[`pack${i + 1}`] as Pack);
    this.packPanels = exports[`pack${NR}`] as Pack;
    this.packRows = exports.packRows as PackRows;
  }

  /** Bytes that `pack` writes for a depth x n right operand, plus room to align them. */
  static packedBytes(depth: number, n: number): number {
    return depth * Math.ceil(n / NR) * NR * 4 + 64;
  }

  /** Bytes of scratch that `multiply` needs for an m x depth left operand. */
  static scratchBytes(m: number, depth: number): number {
    return Math.min(m, MC) * Math.min(depth, KC) * 4 + 64;
  }

  /** Copies the depth x n matrix `b` into NR-column panels at `packed` (64-byte aligned); n must be a multiple of NR. */
  pack(b: HeapMatrix, depth: number, n: number, packed: number): void {
    if (n % NR !== 0) throw new Error(`HeapGemm.pack: ${n} columns is not a multiple of ${NR}`);
    if (b.stepBytes === 4) this.packRows(b.address, b.rowBytes, packed, depth, n / NR);
    else this.packPanels(b.address, b.rowBytes, b.stepBytes, packed, depth, n / NR);
  }

  /**
   * c (m x n, row-major at `c`) = a (m x depth) · the packed depth x n right operand, plus the
   * n-float row at `bias` (if given), clamped at 0 if `relu`; `scratch` (64-byte aligned,
   * `scratchBytes` long) holds each packed block of a. With `accumulate`, the product is added
   * to what c holds.
   */
  multiply(a: HeapMatrix, m: number, depth: number, packed: number, n: number, c: number, scratch: number, bias?: number, relu = false, accumulate = false): void {
    const ldc = n * 4;
    const panelBytes = depth * NR * 4;
    for (let k0 = 0; k0 < depth; k0 += KC) {
      const kc = Math.min(KC, depth - k0);
      // the first depth block starts C from zero; the last one applies bias and ReLU
      const last = k0 + kc === depth;
      const finish = [k0 > 0 || accumulate ? 1 : 0, last ? (bias ?? 0) : 0, last && relu ? 1 : 0] as const;
      for (let m0 = 0; m0 < m; m0 += MC) {
        const rows = Math.min(MC, m - m0);
        const tiles = Math.floor(rows / MR);
        const rest = rows - tiles * MR;
        const aBlock = a.address + m0 * a.rowBytes + k0 * a.stepBytes;
        const bBlock = packed + k0 * NR * 4;
        const cBlock = c + m0 * ldc;
        // A block as `tiles` MR-row tiles, then one tile of the `rest` rows
        if (tiles > 0) {
          this.packTiles[MR - 1](aBlock, a.stepBytes, a.rowBytes, scratch, kc, tiles);
          this.gemm[MR - 1](scratch, kc * MR * 4, bBlock, panelBytes, cBlock, ldc, kc, tiles, n / NR, ...finish);
        }
        if (rest > 0) {
          const restAt = scratch + tiles * kc * MR * 4;
          this.packTiles[rest - 1](aBlock + tiles * MR * a.rowBytes, a.stepBytes, a.rowBytes, restAt, kc, 1);
          this.gemm[rest - 1](restAt, kc * rest * 4, bBlock, panelBytes, cBlock + tiles * MR * ldc, ldc, kc, 1, n / NR, ...finish);
        }
      }
    }
  }
}

/** Whether this runtime can run the GEMM at all (relaxed SIMD). */
export const gemmSupported = (): boolean => compileRelaxedSimd(gemmModule) !== null;

/** The GEMM over `memory`, or undefined where relaxed SIMD is unavailable or the memory cannot be imported. */
export const heapGemm = (memory: WebAssembly.Memory): HeapGemm | undefined => kernelOnHeap(memory, gemmModule, (exports) => new HeapGemm(exports));
