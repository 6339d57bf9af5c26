// Writes a safetensors file (format in safetensors.ts): header padded with spaces to a multiple of
// 8 bytes as the reference writer does, then each tensor's bytes in header order, streamed to a
// temporary file and renamed into place.
import { SAFETENSORS_NAME } from './safetensors.js';
import { byteLengthOf, writeTensorBytes, type OutTensor } from './out-tensor.js';
import { writeFileStreamed } from './write-file.js';

export function writeSafetensors(path: string, tensors: OutTensor[], metadata: Record<string, string> = {}): void {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    const bytes = byteLengthOf(t);
    header[t.key] = { dtype: SAFETENSORS_NAME[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - (json.length % 8)) % 8;
  if (pad > 0) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileStreamed(path, (sink) => {
    sink.write(len);
    sink.write(json);
    for (const t of tensors) writeTensorBytes(t, (piece) => sink.write(piece));
  });
}
