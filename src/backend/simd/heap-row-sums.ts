// Scaled row sums on the wasm backend's heap: for each entry of a list, dst[0..C) += k · src[0..C),
// in relaxed-SIMD fused multiply-adds, 16 channels a step. The host RoIAlign
// (src/models/faster-rcnn/roi-align-host.ts) is such a list: one entry per (RoI bin, map tap) in
// the forward (into the pooled rows) and in the backward (into the map's gradient), over maps of
// 256 channels. In JavaScript it was a double-precision loop per channel (~1 s per image per
// training step at the stride-4 level of a 320 px image).
import { FunctionBody, I32, V128, encodeModule } from './wasm-encoder.js';
import { kernelOnHeap } from './relaxed-simd.js';

/** Bytes per list entry: dst address (i32), src address (i32), k (f32). */
export const ROW_SUM_ENTRY_BYTES = 12;
/** Channel counts the kernel takes: whole steps of four vectors. */
export const ROW_SUM_CHANNEL_MULTIPLE = 16;

/** `scaledRowSums(list, count, steps)`: `count` entries at `list`, rows of 16·steps floats. */
function scaledRowSums(): FunctionBody {
  const f = new FunctionBody(3);
  const [list, count, steps] = [0, 1, 2];
  const [dst, src, left] = [f.local(I32), f.local(I32), f.local(I32)];
  const k = f.local(V128);
  f.countDown(count, () => {
    f.get(list).loadI32(0).set(dst);
    f.get(list).loadI32(4).set(src);
    f.get(list).loadSplat(8).set(k);
    f.get(steps).set(left);
    f.countDown(left, () => {
      for (let i = 0; i < 4; i++) f.get(dst).get(src).load(16 * i).get(k).get(dst).load(16 * i).relaxedMadd().store(16 * i);
      f.increment(dst, 64).increment(src, 64);
    });
    f.increment(list, ROW_SUM_ENTRY_BYTES);
  });
  return f;
}

const rowSumsModule = (): Uint8Array<ArrayBuffer> => encodeModule([{ name: 'scaledRowSums', body: scaledRowSums() }]);

export class HeapRowSums {
  private readonly sums: (list: number, count: number, steps: number) => void;

  constructor(exports: WebAssembly.Exports) {
    this.sums = exports.scaledRowSums as (list: number, count: number, steps: number) => void;
  }

  /** The `count` entries at byte address `list`, over rows of `channels` floats (a multiple of 16). */
  run(list: number, count: number, channels: number): void {
    if (channels % ROW_SUM_CHANNEL_MULTIPLE !== 0) throw new Error(`internal: scaled row sums over ${channels} channels`);
    this.sums(list, count, channels / ROW_SUM_CHANNEL_MULTIPLE);
  }
}

/** The kernel over `memory`, or undefined where relaxed SIMD is unavailable or the memory cannot be imported. */
export const heapRowSums = (memory: WebAssembly.Memory): HeapRowSums | undefined => kernelOnHeap(memory, rowSumsModule, (exports) => new HeapRowSums(exports));
