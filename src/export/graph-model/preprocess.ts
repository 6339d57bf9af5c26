// The detector's own transform as a graph (src/models/faster-rcnn/transform.ts): 0-255 RGB to
// [0, 1], normalise, resize by the min/max-size rule (bilinear, half-pixel centres, as PyTorch's
// align_corners=False), zero-pad to the size divisor. The resized size is floor(size * scale) of
// the exact product, as torchvision computes it in double precision: the float32 product is
// corrected with its rounding error (Dekker's two-product).
import type { TransformConfig } from '../../models/faster-rcnn/config.js';
import type { Ops } from './ops.js';

export interface Preprocessed {
  /** `[1, PH, PW, 3]`, normalised and padded. */
  image: string;
  /** `[h, w]` of the input image (float32). */
  original: string;
  /** `[h, w]` after resizing, before padding (float32). */
  resized: string;
  /** `[PH, PW]` after padding (int32). */
  padded: string;
}

/** floor(a * b) for float32 tensors a and b, exactly (a, b >= 0). */
function floorOfProduct(o: Ops, a: string, b: string): string {
  const split = (x: string) => {
    const c = o.mul(x, o.f(4097));
    const hi = o.sub(c, o.sub(c, x));
    return { hi, lo: o.sub(x, hi) };
  };
  const p = o.mul(a, b);
  const sa = split(a);
  const sb = split(b);
  const err = o.add(o.add(o.add(o.sub(o.mul(sa.hi, sb.hi), p), o.mul(sa.hi, sb.lo)), o.mul(sa.lo, sb.hi)), o.mul(sa.lo, sb.lo));
  const fp = o.floor(p);
  const whole = o.cast(o.g.op('Equal', [p, fp], { T: { type: 'DT_FLOAT' } }), 'float32', 'bool');
  const below = o.cast(o.greater(o.f(0), err), 'float32', 'bool');
  return o.sub(fp, o.mul(whole, below));
}

export function preprocessGraph(o: Ops, config: TransformConfig, input: string): Preprocessed {
  return o.g.scope('transform', () => {
    const unit = o.div(input, o.f(255));
    const mean = o.g.const(Float32Array.from(config.imageMean), [3], 'mean');
    const std = o.g.const(Float32Array.from(config.imageStd), [3], 'std');
    const normalised = o.div(o.sub(unit, mean), std);
    const original = o.cast(o.slice(o.shape(input), [1], [2], 'int32'), 'float32', 'int32');
    const shortSide = o.reduceMin(original, [0], false);
    const longSide = o.reduceMax(original, [0], false);
    const scale = o.min(o.div(o.f(config.minSize), shortSide), o.div(o.f(config.maxSize), longSide));
    const resized = floorOfProduct(o, original, scale);
    const size = o.cast(resized, 'int32', 'float32');
    const image = o.g.op('ResizeBilinear', [normalised, size], { T: { type: 'DT_FLOAT' }, align_corners: { b: false }, half_pixel_centers: { b: true } });
    const d = config.sizeDivisible;
    const padded = o.mulInt(o.floorDivInt(o.addInt(size, o.i(d - 1)), o.i(d)), o.i(d));
    const extra = o.reshape(o.g.op('Sub', [padded, size], { T: { type: 'DT_INT32' } }), [2, 1], 'int32');
    // paddings [[0, 0], [0, PH - h], [0, PW - w], [0, 0]]
    const rows = o.concat([o.g.const(Int32Array.of(0, 0), [2, 1], 'zeros', 'int32'), extra], 1, 'int32');
    const edge = () => o.g.const(Int32Array.of(0, 0), [1, 2], 'zeros', 'int32');
    const paddings = o.concat([edge(), rows, edge()], 0, 'int32');
    return { image: o.pad(image, paddings), original, resized, padded };
  });
}
