// Generates hard-sigmoid and hard-swish (PyTorch's definitions) as one SIMD pass each:
// hardSigmoid(x) = min(max(x + 3, 0), 6) / 6 and hardSwish(x) = x · hardSigmoid(x), in exactly
// the order of operations of tfjs's add, relu6, div and mul, so the results are bit-identical to
// those four kernels (one pass and one dispatch instead of four of each).
import { encodeModule, FunctionBody, I32, V128 } from './wasm-encoder.js';

/** `${name}(x, y, vectors)`: y[i] = f(x[i]) over `vectors` groups of four floats. */
function elementwise(swish: boolean): FunctionBody {
  const f = new FunctionBody(3);
  const [x, y, vectors] = [0, 1, 2];
  const left = f.local(I32);
  const v = f.local(V128);
  f.get(vectors).set(left);
  f.countDown(left, () => {
    f.get(x).load().set(v);
    f.get(y);
    if (swish) f.get(v);
    f.get(v).f32x4Splat(3).f32x4Add().zero().f32x4Max().f32x4Splat(6).f32x4Min().f32x4Splat(6).f32x4Div();
    if (swish) f.f32x4Mul();
    f.store();
    f.increment(x, 16).increment(y, 16);
  });
  return f;
}

export function hardActivationsModule(): Uint8Array<ArrayBuffer> {
  return encodeModule([{ name: 'hardSigmoid', body: elementwise(false) }, { name: 'hardSwish', body: elementwise(true) }]);
}
