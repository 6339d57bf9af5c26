// Writes a GraphModel folder as tfjs-converter does: model.json (format "graph-model", the GraphDef
// as `modelTopology`, `signature`, `userDefinedMetadata`) and one weight group of constants in
// 4 MB shards (`group1-shard<i>of<n>.bin`), each constant's bytes in manifest order.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHARD_BYTES } from '../../io/tfjs-weights.js';
import { TORCHPORT_VERSION } from '../../models/convert.js';
import type { GraphBuilder } from './graph.js';

export interface GraphModelJson {
  format: 'graph-model';
  generatedBy: string;
  convertedBy: string;
  signature: Record<string, unknown>;
  modelTopology: ReturnType<GraphBuilder['graphDef']>;
  weightsManifest: Array<{ paths: string[]; weights: Array<{ name: string; shape: number[]; dtype: 'float32' | 'int32' }> }>;
  userDefinedMetadata: Record<string, unknown>;
}

/** Writes model.json and the shards into the (empty) folder `dir`; returns the files written. */
export function writeGraphModel(dir: string, graph: GraphBuilder, signature: Record<string, unknown>, metadata: Record<string, unknown>): string[] {
  const total = graph.constants.reduce((n, c) => n + c.data.byteLength, 0);
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const c of graph.constants) {
    bytes.set(new Uint8Array(c.data.buffer, c.data.byteOffset, c.data.byteLength), offset);
    offset += c.data.byteLength;
  }
  const count = Math.max(1, Math.ceil(total / SHARD_BYTES));
  const paths = Array.from({ length: count }, (_, i) => `group1-shard${i + 1}of${count}.bin`);
  paths.forEach((p, i) => writeFileSync(join(dir, p), bytes.subarray(i * SHARD_BYTES, Math.min(total, (i + 1) * SHARD_BYTES))));
  const json: GraphModelJson = {
    format: 'graph-model',
    generatedBy: `torchport ${TORCHPORT_VERSION}`,
    convertedBy: `torchport ${TORCHPORT_VERSION} export --format graph-model`,
    signature,
    modelTopology: graph.graphDef(),
    weightsManifest: [{ paths, weights: graph.constants.map((c) => ({ name: c.name, shape: c.shape, dtype: c.dtype })) }],
    userDefinedMetadata: metadata,
  };
  writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
  return ['model.json', ...paths];
}
