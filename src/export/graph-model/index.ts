// `exportGraphModel`: a torchport model folder (`convert` output or a fine-tuning checkpoint) to a
// standalone TF.js GraphModel folder that plain `tf.loadGraphModel` loads and runs.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../errors.js';
import { readTfjsWeights } from '../../io/tfjs-weights.js';
import { writeDirAtomic } from '../../io/atomic.js';
import { readConvertedMetadata } from '../../models/convert.js';
import { labelName } from '../../models/detectors/labels.js';
import { loadDetectorDir } from '../../models/detectors/load.js';
import { DETECTOR_MODELS } from '../../models/detectors/torchvision.js';
import { classColumns } from '../../models/faster-rcnn/specs.js';
import { backboneGraph } from './backbone.js';
import { detectorGraph, type BuiltGraph } from './detector.js';
import { writeGraphModel } from './write.js';

export { UnsupportedOpError } from './graph.js';
export { SUPPORTED_OPS } from './supported-ops.js';

export interface ExportGraphModelOptions {
  /** Backbones: the feature layers to output (features[i] numbering); default the recorded ones. */
  outIndices?: number[];
  /** Detectors: names of the foreground classes in label order, instead of the recorded ones. */
  classNames?: string[];
}

export interface ExportGraphModelResult {
  kind: 'detector' | 'backbone';
  files: string[];
  /** Node count of the GraphDef and the distinct ops it uses. */
  nodes: number;
  ops: string[];
}

/** The output folder may be replaced only when it is absent, empty or an earlier GraphModel/model folder. */
function checkOutDir(outDir: string): void {
  if (!existsSync(outDir)) return;
  if (!statSync(outDir).isDirectory() || (readdirSync(outDir).length > 0 && !existsSync(join(outDir, 'model.json')))) {
    throw new InputError('exists and is not a model folder; choose another --out', outDir);
  }
}

/** Exports the model folder `modelDir` as a TF.js GraphModel into `outDir` (replaced atomically). */
export async function exportGraphModel(modelDir: string, outDir: string, opts: ExportGraphModelOptions = {}): Promise<ExportGraphModelResult> {
  checkOutDir(outDir);
  const { modelJson } = readTfjsWeights(modelDir);
  const meta = readConvertedMetadata(modelJson, modelDir);
  const isDetector = meta.config !== undefined || DETECTOR_MODELS.includes(meta.model);
  let built: BuiltGraph;
  let metadata: Record<string, unknown>;
  if (isDetector) {
    if (opts.outIndices) throw new InputError('outIndices is for backbones; this folder holds a detector', modelDir);
    const detector = loadDetectorDir(modelDir);
    try {
      built = detectorGraph(detector.model, detector.weights);
      const config = opts.classNames ? { ...detector.model.config, classNames: opts.classNames } : detector.model.config;
      const { foreground } = classColumns(config.roiHead);
      if (opts.classNames && opts.classNames.length !== foreground.length) {
        throw new InputError(`classNames has ${opts.classNames.length} names; the detector has ${foreground.length} foreground classes`, modelDir);
      }
      metadata = {
        torchport: { ...meta, kind: 'detector' },
        classNames: Object.fromEntries(foreground.map((id) => [id, labelName(config, id)])),
        input: 'image: float32 [1, H, W, 3], RGB, values 0-255 (tf.browser.fromPixels cast to float32, with a batch axis); any H and W',
        outputs: 'boxes: float32 [N, 4] (x1, y1, x2, y2 in input pixels); scores: float32 [N]; labels: int32 [N] (keys of classNames)',
      };
    } finally {
      for (const t of Object.values(detector.weights)) t.dispose();
      detector.model.releaseCache();
    }
  } else {
    if (opts.classNames) throw new InputError('classNames is for detectors; this folder holds a backbone', modelDir);
    ({ built, metadata } = await backboneGraph(modelDir, meta, opts.outIndices));
  }
  let files: string[] = [];
  await writeDirAtomic(outDir, (tmp) => {
    files = writeGraphModel(tmp, built.graph, built.signature, metadata);
  });
  return { kind: isDetector ? 'detector' : 'backbone', files, nodes: built.graph.nodes.length, ops: [...new Set(built.graph.nodes.map((n) => n.op))].sort() };
}
