// Detections drawn on an image (src/io/draw.ts): small images enlarged, tags inside the picture,
// clear of each other, and on top of every box.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { type DrawnBox, detectionsSvg, drawDetections, drawScale, placeTags } from '../../src/io/draw.js';

test('small images are enlarged by a whole factor to at least 512 px', () => {
  assert.equal(drawScale(128, 128), 4);
  assert.equal(drawScale(200, 100), 3);
  assert.equal(drawScale(640, 480), 1);
});

test('a tag goes above its box, inside it at the top edge, and shifts left at the right edge', () => {
  const [above, top, right] = placeTags(200, 100, [
    { box: [50, 40, 90, 80], w: 30, h: 10 },
    { box: [120, 0, 160, 30], w: 30, h: 10 },
    { box: [180, 50, 200, 90], w: 30, h: 10 },
  ]);
  assert.deepEqual(above, { x: 50, y: 30, w: 30, h: 10 });
  assert.deepEqual(top, { x: 120, y: 0, w: 30, h: 10 });
  assert.deepEqual(right, { x: 170, y: 40, w: 30, h: 10 });
});

test('tags of boxes in one place do not cover each other', () => {
  const tags = placeTags(200, 100, [
    { box: [10, 20, 80, 70], w: 40, h: 10 },
    { box: [12, 22, 82, 72], w: 40, h: 10 },
    { box: [11, 21, 81, 71], w: 40, h: 10 },
  ]);
  assert.deepEqual(tags.map((t) => t.y), [10, 22, 71]); // above, inside the top, below
});

test('every box is drawn before any tag, the best box last', () => {
  const boxes: DrawnBox[] = [
    { box: [10, 10, 50, 50], label: 'ellipse', score: 0.4, colorIndex: 2 },
    { box: [20, 20, 60, 60], label: 'a<b', score: 0.9, colorIndex: 1 },
  ];
  const svg = detectionsSvg(100, 100, boxes);
  const lastFrame = svg.lastIndexOf('fill="none"');
  assert.ok(lastFrame < svg.indexOf('<text'), svg);
  assert.ok(svg.lastIndexOf('x="10"', lastFrame) < svg.lastIndexOf('x="20"', lastFrame), svg);
  assert.match(svg, />a&lt;b 0\.90</);
});

test('drawDetections writes the enlarged picture with the tag in the class colour above the box', async () => {
  const image = { width: 128, height: 128, data: new Uint8Array(128 * 128 * 3).fill(128) };
  const png = await drawDetections(image, [{ box: [10, 40, 60, 90], label: 'rectangle', score: 0.87, colorIndex: 1 }]);
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height, info.channels], [512, 512, 3]);
  const at = (x: number, y: number) => [...data.subarray((y * 512 + x) * 3, (y * 512 + x) * 3 + 3)];
  assert.deepEqual(at(41, 159 - 20), [0x3c, 0xb4, 0x4b]); // the tag, just above the box's top at 4 x 40 = 160
  assert.deepEqual(at(40, 300), [0x3c, 0xb4, 0x4b]); // the box's left edge at 4 x 10
  assert.deepEqual(at(300, 300), [128, 128, 128]); // inside the box: the image
});
