// Matcher, sampler and target assignment against torchvision 0.14 (fixtures/detection-losses/units.json,
// written by fixtures/gen_detection_losses.py) and against hand-checked cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { boxIou } from '../../../src/models/faster-rcnn/boxes.js';
import { encodeBoxes } from '../../../src/models/faster-rcnn/box-coder.js';
import {
  BELOW_LOW_THRESHOLD,
  BETWEEN_THRESHOLDS,
  matchPredictions,
} from '../../../src/train/faster-rcnn/matcher.js';
import { SeededRandom } from '../../../src/train/faster-rcnn/random.js';
import { sampleBalanced } from '../../../src/train/faster-rcnn/sampler.js';
import { assignAnchorTargets, sampleRoITargets } from '../../../src/train/faster-rcnn/targets.js';

interface MatcherCase {
  gt: number[];
  pred: number[];
  high: number;
  low: number;
  allowLowQualityMatches: boolean;
  matches: number[];
}
const units = JSON.parse(readFileSync(new URL('../../../fixtures/detection-losses/units.json', import.meta.url), 'utf8')) as {
  matcher: MatcherCase[];
};

test('matcher: equals torchvision Matcher (thresholds, ties, low-quality matches) on every golden case', () => {
  for (const c of units.matcher) {
    const gt = Float32Array.from(c.gt);
    const quality = boxIou(gt, Float32Array.from(c.pred));
    const got = matchPredictions(quality, gt.length / 4, {
      highThreshold: c.high,
      lowThreshold: c.low,
      allowLowQualityMatches: c.allowLowQualityMatches,
    });
    assert.deepEqual(Array.from(got), c.matches);
  }
});

test('matcher: codes and the low-quality rule on a hand-made matrix', () => {
  // 2 gt x 4 predictions
  const q = Float32Array.from([0.8, 0.5, 0.1, 0.2, 0.75, 0.2, 0.1, 0.25]);
  const strict = matchPredictions(q, 2, { highThreshold: 0.7, lowThreshold: 0.3, allowLowQualityMatches: false });
  assert.deepEqual(Array.from(strict), [0, BETWEEN_THRESHOLDS, BELOW_LOW_THRESHOLD, BELOW_LOW_THRESHOLD]);
  // gt 1's best is prediction 0 (0.75) which already matches gt 0; with ties and low quality:
  // prediction 0 keeps its argmax (gt 0), nothing else changes because 0.75 is only at column 0
  const loose = matchPredictions(q, 2, { highThreshold: 0.7, lowThreshold: 0.3, allowLowQualityMatches: true });
  assert.deepEqual(Array.from(loose), [0, BETWEEN_THRESHOLDS, BELOW_LOW_THRESHOLD, BELOW_LOW_THRESHOLD]);
  // a gt whose best is low (0.25 at prediction 3) still gets that prediction
  const q2 = Float32Array.from([0.8, 0.5, 0.1, 0.2, 0.1, 0.2, 0.1, 0.25]);
  const lowQ = matchPredictions(q2, 2, { highThreshold: 0.7, lowThreshold: 0.3, allowLowQualityMatches: true });
  assert.deepEqual(Array.from(lowQ), [0, BETWEEN_THRESHOLDS, BELOW_LOW_THRESHOLD, 1]);
  assert.throws(() => matchPredictions(new Float32Array(0), 0, { highThreshold: 0.7, lowThreshold: 0.3, allowLowQualityMatches: true }), /no ground-truth boxes/);
  assert.throws(() => matchPredictions(q, 2, { highThreshold: 0.3, lowThreshold: 0.7, allowLowQualityMatches: true }), /lowThreshold 0.7 is above highThreshold 0.3/);
});

test('sampler: quotas as torchvision (floor(batch*fraction) positives, negatives fill), ascending indices', () => {
  const labels = [1, 0, -1, 2, 0, 0, 1, 0, 3, 0, 0, -1];
  // deterministic: first candidates in index order
  assert.deepEqual(sampleBalanced(labels, { batchSizePerImage: 4, positiveFraction: 0.5 }), {
    positives: [0, 3],
    negatives: [1, 4],
  });
  // few positives: negatives fill the rest of the batch
  assert.deepEqual(sampleBalanced([0, 1, 0, 0, 0], { batchSizePerImage: 4, positiveFraction: 0.5 }), {
    positives: [1],
    negatives: [0, 2, 3],
  });
  // quotas larger than the candidates: everything but the ignored
  assert.deepEqual(sampleBalanced(labels, { batchSizePerImage: 1000, positiveFraction: 0.5 }), {
    positives: [0, 3, 6, 8],
    negatives: [1, 4, 5, 7, 9, 10],
  });
  // random mode: right counts, members of the right sets, reproducible from the seed, and it varies
  const seen = new Set<string>();
  for (let seed = 0; seed < 20; seed++) {
    const a = sampleBalanced(labels, { batchSizePerImage: 5, positiveFraction: 0.4 }, new SeededRandom(seed));
    const b = sampleBalanced(labels, { batchSizePerImage: 5, positiveFraction: 0.4 }, new SeededRandom(seed));
    assert.deepEqual(a, b);
    assert.equal(a.positives.length, 2);
    assert.equal(a.negatives.length, 3);
    for (const i of a.positives) assert.ok(labels[i] >= 1);
    for (const i of a.negatives) assert.equal(labels[i], 0);
    assert.deepEqual(a.negatives, [...a.negatives].sort((x, y) => x - y));
    seen.add(JSON.stringify(a));
  }
  assert.ok(seen.size > 5, `only ${seen.size} distinct samples in 20 seeds`);
});

test('seeded random: state round-trips, bad state is refused', () => {
  const r = new SeededRandom(7);
  r.next();
  const state = r.getState();
  const a = [r.next(), r.next()];
  r.setState(state);
  assert.deepEqual([r.next(), r.next()], a);
  assert.throws(() => r.setState('x'), /SeededRandom: invalid state "x" \(expected \[7, draws so far\]\)/);
  assert.throws(() => r.setState([8, 1]), /SeededRandom: invalid state \[8,1\]/);
});

test('RPN targets: labels 1/0/-1 by IoU with low-quality matches, matched boxes; background image', () => {
  const gt = Float32Array.from([0, 0, 10, 10]);
  const anchors = Float32Array.from([
    0, 0, 10, 10, // IoU 1 → positive
    0, 0, 10, 5, // 0.5 → ignored
    20, 20, 30, 30, // 0 → negative
    0, 0, 10, 12, // 0.833 → positive
  ]);
  const t = assignAnchorTargets(anchors, gt, { fgIouThresh: 0.7, bgIouThresh: 0.3 });
  assert.deepEqual(Array.from(t.labels), [1, -1, 0, 1]);
  assert.deepEqual(Array.from(t.matchedBoxes), [0, 0, 10, 10, 0, 0, 10, 10, 0, 0, 10, 10, 0, 0, 10, 10]);
  // low quality: the only gt's best anchor (IoU 0.5) becomes positive
  const low = assignAnchorTargets(anchors.subarray(4, 12), gt, { fgIouThresh: 0.7, bgIouThresh: 0.3 });
  assert.deepEqual(Array.from(low.labels), [1, 0]);
  const bg = assignAnchorTargets(anchors, new Float32Array(0), { fgIouThresh: 0.7, bgIouThresh: 0.3 });
  assert.deepEqual(Array.from(bg.labels), [0, 0, 0, 0]);
});

test('RoI targets: gt appended, class labels, 0 background, ignored dropped, targets encoded with (10,10,5,5)', () => {
  const proposals = Float32Array.from([
    1, 1, 11, 11, // IoU 0.681 with gt 0 → class 3
    50, 50, 60, 60, // 0 → background
    0, 0, 10, 4, // 0.4 with gt 0 → background (bg thresh 0.5, fg 0.5 in torchvision)
  ]);
  const target = { boxes: Float32Array.from([0, 0, 10, 10, 40, 40, 52, 52]), labels: Int32Array.from([3, 1]) };
  const opts = { fgIouThresh: 0.5, bgIouThresh: 0.5, batchSizePerImage: 512, positiveFraction: 0.25, bboxRegWeights: [10, 10, 5, 5] as const };
  const s = sampleRoITargets(proposals, target, opts);
  // candidates: 3 proposals + 2 gt; proposal 1 has IoU 4/(100+144-4)=0.0167 with gt 1 → background
  assert.deepEqual(Array.from(s.labels), [3, 0, 0, 3, 1]);
  assert.deepEqual(Array.from(s.rois), [...proposals, ...target.boxes]);
  const expectedFirst = encodeBoxes(target.boxes.subarray(0, 4), proposals.subarray(0, 4), [10, 10, 5, 5]);
  assert.deepEqual(Array.from(s.regressionTargets.subarray(0, 4)), Array.from(expectedFirst));
  assert.deepEqual(Array.from(s.regressionTargets.subarray(12, 20)), [0, 0, 0, 0, 0, 0, 0, 0]);

  // ignored band: with fg 0.7 / bg 0.3, proposal 0 (0.681) and 2 (0.4) are dropped
  const s2 = sampleRoITargets(proposals, target, { ...opts, fgIouThresh: 0.7, bgIouThresh: 0.3 });
  assert.deepEqual(Array.from(s2.labels), [0, 3, 1]);
  // a small batch: floor(4*0.25)=1 positive (the first, deterministic mode), then both negatives
  const s3 = sampleRoITargets(proposals, target, { ...opts, batchSizePerImage: 4 });
  assert.deepEqual(Array.from(s3.labels), [3, 0, 0]);

  // background image: everything is background, no regression targets used
  const s4 = sampleRoITargets(proposals, { boxes: new Float32Array(0), labels: new Int32Array(0) }, opts);
  assert.deepEqual(Array.from(s4.labels), [0, 0, 0]);
});
