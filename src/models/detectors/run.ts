// Running a converted detector on image files: what `torchport detect` prints, as data.
import { readFileSync } from 'node:fs';
import { InputError } from '../../errors.js';
import { decodeImage, type RgbImage } from '../../io/image.js';
import { labelName } from './labels.js';
import type { LoadedDetector } from './load.js';

export interface DetectionRecord {
  label: string;
  /** As the source model numbers classes (torchvision: 1..K-1, 0 = background). */
  labelId: number;
  score: number;
  /** [x1, y1, x2, y2] in original-image pixels. */
  box: [number, number, number, number];
}

export interface DetectResult {
  image: string;
  detections: DetectionRecord[];
}

/** Reads and decodes a PNG/JPEG file; unreadable or undecodable files are InputErrors. */
export async function readImageFile(path: string): Promise<RgbImage> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new InputError(`cannot read the image (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, path);
  }
  try {
    return await decodeImage(bytes);
  } catch (err) {
    throw new InputError(`not a decodable image (PNG or JPEG expected): ${(err as Error).message}`, path);
  }
}

/** Runs the detector on one decoded image; keeps detections scoring at least `scoreThreshold`. */
export async function detectImage(detector: LoadedDetector, image: RgbImage, scoreThreshold: number): Promise<DetectionRecord[]> {
  const [det] = await detector.model.predict(detector.weights, [image]);
  const out: DetectionRecord[] = [];
  det.scores.forEach((score, i) => {
    if (score < scoreThreshold) return;
    const labelId = det.labels[i];
    const b = det.boxes.subarray(4 * i, 4 * i + 4);
    out.push({ label: labelName(detector.model.config, labelId), labelId, score, box: [b[0], b[1], b[2], b[3]] });
  });
  return out;
}
