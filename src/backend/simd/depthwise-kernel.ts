// Generates torchport's depthwise convolution module (NHWC, channel multiplier 1, dilation 1):
// `depthwiseRow${v}` computes one output row, vectorised over channels in blocks of 4·v with v
// independent fused multiply-add chains, and takes only the taps that fall inside the input (so
// padding costs nothing). XNNPACK's wasm depthwise kernels ran MobileNetV3's layers at 3-8 GFLOP/s
// on the project machine (tf.profile, batch 8).
import { encodeModule, FunctionBody, I32, V128, type ExportedFunction } from './wasm-encoder.js';

/** Vectors per channel block: 4 (16 channels) where the channel count allows, else 2. */
export const BLOCK_VECTORS = [4, 2] as const;

/**
 * `depthwiseRow${v}(x, w, bias, out, outWidth, channels, stride, kw, padLeft, inWidth, rows, relu)`:
 * for ox < outWidth, out[ox] = bias + Σ over `rows` filter rows (x and w each at their first
 * valid row; x rows inWidth·channels floats apart, w rows kw·channels) and the taps kx with
 * 0 <= ox·stride − padLeft + kx < inWidth of x · w, clamped at 0 if relu. bias 0: none.
 */
function depthwiseRow(v: number): FunctionBody {
  const f = new FunctionBody(12);
  const [x, w, bias, out, outWidth, channels, stride, kw, padLeft, inWidth, rows, relu] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const [ox, ix, first, taps, pixelBytes, xRow, wRow, xTap, wTap, block, rowsLeft, tapsLeft, xRowBytes, wRowBytes, outAt] =
    Array.from({ length: 15 }, () => f.local(I32));
  const acc = Array.from({ length: v }, () => f.local(V128));
  const blockBytes = 16 * v;

  f.get(channels).i32(4).mul().set(pixelBytes);
  f.get(inWidth).get(pixelBytes).mul().set(xRowBytes);
  f.get(kw).get(pixelBytes).mul().set(wRowBytes);
  f.get(out).set(outAt);
  f.i32(0).set(ox);
  f.doWhile(() => {
    // the valid taps of this pixel: kx in [first, first + taps)
    f.get(ox).get(stride).mul().get(padLeft).sub().set(ix);
    f.i32(0).get(ix).sub().i32(0).get(ix).i32(0).ltS().select().set(first);
    f.get(inWidth).get(ix).sub().get(kw).get(ix).get(kw).add().get(inWidth).gtS().select().get(first).sub().set(taps);
    f.i32(0).set(block);
    f.doWhile(() => {
      for (let i = 0; i < v; i++) f.zero().set(acc[i]);
      f.get(bias).when(() => {
        for (let i = 0; i < v; i++) f.get(bias).get(block).add().load(16 * i).set(acc[i]);
      });
      f.get(x).get(ix).get(first).add().get(pixelBytes).mul().add().get(block).add().set(xRow);
      f.get(w).get(first).get(pixelBytes).mul().add().get(block).add().set(wRow);
      f.get(rows).set(rowsLeft);
      f.countDown(rowsLeft, () => {
        f.get(xRow).set(xTap);
        f.get(wRow).set(wTap);
        f.get(taps).set(tapsLeft);
        f.countDown(tapsLeft, () => {
          for (let i = 0; i < v; i++) f.get(xTap).load(16 * i).get(wTap).load(16 * i).get(acc[i]).relaxedMadd().set(acc[i]);
          f.addLocal(xTap, pixelBytes).addLocal(wTap, pixelBytes);
        });
        f.addLocal(xRow, xRowBytes).addLocal(wRow, wRowBytes);
      });
      f.get(relu).when(() => {
        for (let i = 0; i < v; i++) f.get(acc[i]).zero().f32x4Max().set(acc[i]);
      });
      for (let i = 0; i < v; i++) f.get(outAt).get(block).add().get(acc[i]).store(16 * i);
      f.increment(block, blockBytes);
    }, () => f.get(block).get(pixelBytes).ltU());
    f.addLocal(outAt, pixelBytes);
    f.increment(ox, 1);
  }, () => f.get(ox).get(outWidth).ltU());
  return f;
}

/** The module's bytes: `depthwiseRow${v}` for each of BLOCK_VECTORS. */
export function depthwiseModule(): Uint8Array<ArrayBuffer> {
  const functions: ExportedFunction[] = BLOCK_VECTORS.map((v) => ({ name: `depthwiseRow${v}`, body: depthwiseRow(v) }));
  return encodeModule(functions);
}
