// Generates torchport's GEMM module: C += A · B with B packed in panels of `NR` columns (for each
// depth step, the panel's NR values, contiguous) and A packed in tiles of `MR` rows (the same, by
// rows), so both stream through the caches in order whatever their layout in the tensor. Each
// register tile keeps mr x NR accumulators for a whole depth block and multiplies with
// relaxed-SIMD fused multiply-add: on x86 with FMA that is twice the arithmetic per instruction
// of the multiply-then-add XNNPACK kernels inside tfjs's wasm backend.
// Tile sizes were measured on the project machine (V8 11.3, 16 xmm registers): 4 x 8 keeps every
// accumulator in a register; 6 x 8, 4 x 12 or unrolled depth loops spill and run at half speed.
import { encodeModule, FunctionBody, I32, V128, type ExportedFunction } from './wasm-encoder.js';

/** Columns per packed B panel. */
export const NR = 8;
/** Rows per register tile; `gemm${r}` for r < MR handle the last rows. */
export const MR = 4;

/**
 * `gemm${mr}(a, aTileBytes, b, bPanelBytes, c, ldcBytes, depth, mTiles, nPanels, accumulate,
 * bias, relu)`: for every packed A tile p < mTiles (at a + p·aTileBytes) and B panel q < nPanels
 * (at b + q·bPanelBytes), computes the `depth`-step product of C's mr x NR block at
 * c + p·mr·ldcBytes + q·NR·4, added to what C holds if `accumulate` is not 0; then adds the row at
 * `bias` (unless its address is 0) and clamps at 0 (unless `relu` is 0) before storing it.
 */
function gemm(mr: number): FunctionBody {
  const f = new FunctionBody(12);
  const [a, aTile, b, bPanel, c, ldc, depth, mTiles, nPanels, accumulate, bias, relu] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const ap = f.local(I32);
  const [q, p, step, bp, cTile, cRow] = [0, 0, 0, 0, 0, 0].map(() => f.local(I32));
  const vectors = NR / 4;
  const acc = Array.from({ length: mr * vectors }, () => f.local(V128));
  const bv = Array.from({ length: vectors }, () => f.local(V128));
  const splat = f.local(V128);
  const forEachRowOfTile = (visit: (r: number) => void) => {
    f.get(cTile).set(cRow);
    for (let r = 0; r < mr; r++) {
      visit(r);
      f.addLocal(cRow, ldc);
    }
  };
  const forEachAccumulator = (visit: (k: number, v: number) => void) => acc.forEach((k, i) => visit(k, i % vectors));

  f.i32(0).set(q);
  f.doWhile(() => {
    f.get(c).get(q).i32(NR * 4).mul().add().set(cTile);
    f.i32(0).set(p);
    f.doWhile(() => {
      forEachAccumulator((k) => f.zero().set(k));
      f.get(accumulate).when(() => forEachRowOfTile((r) => {
        for (let v = 0; v < vectors; v++) f.get(cRow).load(16 * v).set(acc[r * vectors + v]);
      }));
      f.get(a).get(p).get(aTile).mul().add().set(ap);
      f.get(b).get(q).get(bPanel).mul().add().set(bp);
      f.get(depth).set(step);
      f.doWhile(() => {
        for (let v = 0; v < vectors; v++) f.get(bp).load(16 * v).set(bv[v]);
        for (let r = 0; r < mr; r++) {
          f.get(ap).loadSplat(4 * r).set(splat);
          for (let v = 0; v < vectors; v++) {
            const k = acc[r * vectors + v];
            f.get(splat).get(bv[v]).get(k).relaxedMadd().set(k);
          }
        }
        f.increment(ap, 4 * mr).increment(bp, 4 * NR).get(step).i32(1).sub().set(step);
      }, () => f.get(step));
      f.get(bias).when(() => {
        for (let v = 0; v < vectors; v++) f.get(bias).get(q).i32(NR * 4).mul().add().load(16 * v).set(bv[v]);
        forEachAccumulator((k, v) => f.get(k).get(bv[v]).f32x4Add().set(k));
      });
      f.get(relu).when(() => forEachAccumulator((k) => f.get(k).zero().f32x4Max().set(k)));
      forEachRowOfTile((r) => {
        for (let v = 0; v < vectors; v++) f.get(cRow).get(acc[r * vectors + v]).store(16 * v);
      });
      f.get(cTile).get(ldc).i32(mr).mul().add().set(cTile);
      f.increment(p, 1);
    }, () => f.get(p).get(mTiles).ltU());
    f.increment(q, 1);
  }, () => f.get(q).get(nPanels).ltU());
  return f;
}

/**
 * `pack${width}(x, kStrideBytes, jStrideBytes, packed, depth, panels)`: copies X (element (k, j)
 * at x + k·kStrideBytes + j·jStrideBytes) into panels of `width` consecutive j at `packed`, each
 * depth·width floats: B's columns into panels, or A's rows (j = row) into tiles.
 */
function pack(width: number): FunctionBody {
  const f = new FunctionBody(6);
  const [x, kStride, jStride, packed, depth, panels] = [0, 1, 2, 3, 4, 5];
  const [q, step, src, column] = [0, 0, 0, 0].map(() => f.local(I32));
  f.i32(0).set(q);
  f.doWhile(() => {
    f.get(x).get(q).i32(width).mul().get(jStride).mul().add().set(column);
    f.get(depth).set(step);
    f.doWhile(() => {
      f.get(column).set(src);
      for (let j = 0; j < width; j++) {
        f.get(packed).get(src).loadF32().storeF32(4 * j);
        f.addLocal(src, jStride);
      }
      f.increment(packed, 4 * width).addLocal(column, kStride).get(step).i32(1).sub().set(step);
    }, () => f.get(step));
    f.increment(q, 1);
  }, () => f.get(q).get(panels).ltU());
  return f;
}

/**
 * `packRows(b, kStrideBytes, packed, depth, nPanels)`: `pack` for a B whose rows are contiguous
 * (nStrideBytes = 4), a row at a time: each row is read once, in order, and its NR-wide pieces
 * are stored into their panels with vector copies.
 */
function packRows(): FunctionBody {
  const f = new FunctionBody(5);
  const [b, kStride, packed, depth, nPanels] = [0, 1, 2, 3, 4];
  const [q, step, src, dst, panelBytes] = [0, 0, 0, 0, 0].map(() => f.local(I32));
  f.get(depth).i32(4 * NR).mul().set(panelBytes);
  f.get(depth).set(step);
  f.doWhile(() => {
    f.get(b).set(src);
    f.get(packed).set(dst);
    f.i32(0).set(q);
    f.doWhile(() => {
      for (let v = 0; v < NR / 4; v++) f.get(dst).get(src).load(16 * v).store(16 * v);
      f.increment(src, 4 * NR).addLocal(dst, panelBytes).increment(q, 1);
    }, () => f.get(q).get(nPanels).ltU());
    f.addLocal(b, kStride).increment(packed, 4 * NR).get(step).i32(1).sub().set(step);
  }, () => f.get(step));
  return f;
}

/** The module's bytes: `gemm${r}` and `pack${r}` for r = 1 … MR, `pack${NR}` and `packRows`. */
export function gemmModule(): Uint8Array<ArrayBuffer> {
  const functions: ExportedFunction[] = [];
  for (let r = 1; r <= MR; r++) functions.push({ name: `gemm${r}`, body: gemm(r) }, { name: `pack${r}`, body: pack(r) });
  functions.push({ name: `pack${NR}`, body: pack(NR) }, { name: 'packRows', body: packRows() });
  return encodeModule(functions);
}
