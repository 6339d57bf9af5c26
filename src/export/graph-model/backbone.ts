// A backbone or classifier folder as a graph: input `image` float32 `[N, H, W, 3]`, NHWC, already
// normalised as the source model expects (the NHWC form of what `torchport forward` takes);
// outputs `features_<i>` (NHWC, one per requested feature layer) and, with a classifier head,
// `logits` `[N, classes]`.
import { disposeConverted, loadConverted, type ConvertedMetadata } from '../../models/convert.js';
import { backboneGraphFor, type BuiltGraph } from './detector.js';
import { attr, GraphBuilder } from './graph.js';
import { mobileNetV3Graph } from './mobilenetv3.js';
import { Ops } from './ops.js';
import { GraphWeights } from './weights.js';

export async function backboneGraph(dir: string, meta: ConvertedMetadata, outIndices?: number[]): Promise<{ built: BuiltGraph; metadata: Record<string, unknown> }> {
  const loaded = await loadConverted(dir, outIndices ? { outIndices } : {});
  try {
    const net = backboneGraphFor(loaded.model, meta.model);
    const g = new GraphBuilder();
    const o = new Ops(g);
    const input = g.named('image', 'Placeholder', [], { dtype: attr.type('float32'), shape: attr.shape([-1, -1, -1, 3]) });
    const withClassifier = net.options.numClasses > 0;
    const out = mobileNetV3Graph(o, new GraphWeights(g, loaded.weights), net, input, loaded.outIndices, withClassifier);
    const info = (name: string, dims: number[]) => ({ name: `${name}:0`, dtype: 'DT_FLOAT', tensorShape: { dim: dims.map((d) => ({ size: String(d) })) } });
    const outputs: Record<string, unknown> = {};
    loaded.outIndices.forEach((index, k) => {
      const name = `features_${index}`;
      g.named(name, 'Identity', [out.features[k]], { T: attr.type('float32') });
      outputs[name] = info(name, [-1, -1, -1, net.featureInfo.find((f) => f.index === index)!.channels]);
    });
    if (out.logits) {
      g.named('logits', 'Identity', [out.logits], { T: attr.type('float32') });
      outputs.logits = info('logits', [-1, net.options.numClasses]);
    }
    return {
      built: { graph: g, signature: { inputs: { image: info('image', [-1, -1, -1, 3]) }, outputs } },
      metadata: {
        torchport: { ...meta, kind: 'backbone', outIndices: loaded.outIndices },
        input: 'image: float32 [N, H, W, 3], NHWC, RGB, normalised as the source model expects (e.g. ImageNet mean/std for torchvision weights); the graph does no resizing or normalisation',
        outputs: `${loaded.outIndices.map((i) => `features_${i}`).join(', ')}: float32 NHWC feature maps${out.logits ? '; logits: float32 [N, classes]' : ''}`,
      },
    };
  } finally {
    disposeConverted(loaded);
  }
}
