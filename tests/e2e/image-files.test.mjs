// Unusual image files in "Your images": each is decoded correctly or refused
// with a message naming the file and what is wrong, and what was already
// loaded stays as it was.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { labFor, byTestId } from './browser.mjs';
import { greyPng, rgb16Png, animatedPng } from './png-files.mjs';

const bar = (x) => (x >= 10 && x < 18 ? 255 : 0);
const dot = (x, y) => ((x - 14) ** 2 + (y - 14) ** 2 < 40 ? 255 : 0);

// Two classes of six good 28×28 images, one of them 16 bits per channel; then
// the odd ones: an animation, a 3×3 image, one 9000 pixels wide, a text file
// named .gif, and an empty .png.
function folder() {
  const top = path.join(mkdtempSync(path.join(tmpdir(), 'ftl-odd-')), 'odd');
  for (const name of ['bars', 'dots']) mkdirSync(path.join(top, name), { recursive: true });
  for (let i = 0; i < 5; i++) writeFileSync(path.join(top, 'bars', `bar-${i}.png`), greyPng(28, 28, bar));
  writeFileSync(path.join(top, 'bars', 'sixteen-bit.png'), rgb16Png(28, 28, (x) => bar(x) * 257));
  for (let i = 0; i < 6; i++) writeFileSync(path.join(top, 'dots', `dot-${i}.png`), greyPng(28, 28, dot));
  writeFileSync(path.join(top, 'dots', 'animated.png'), animatedPng(28, 28, [dot, bar]));
  writeFileSync(path.join(top, 'dots', 'tiny.png'), greyPng(3, 3));
  writeFileSync(path.join(top, 'dots', 'too-wide.png'), greyPng(9000, 4));
  writeFileSync(path.join(top, 'bars', 'lying.gif'), 'GIF89a? no, a note\n');
  writeFileSync(path.join(top, 'bars', 'empty.png'), '');
  return top;
}

test('16-bit images load; animated, tiny, huge and fake images are named and skipped; the classes stay', async (t) => {
  const lab = await labFor(t);
  const { page } = lab;
  await page.locator('[data-testid="own-images"] summary').click();
  await byTestId(page, 'upload').setInputFiles(folder());
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="class-summary"] .own-class').length === 2, null, { timeout: 30_000 });
  const counts = await page.locator('[data-testid="class-summary"] [data-testid="class-count"]').allTextContents();
  assert.deepEqual(counts, ['6 images', '6 images'], 'the 16-bit PNG joined its class');
  const skipped = (await page.locator('[data-testid="skipped-files"] li').allTextContents()).join('\n');
  assert.match(skipped, /animated\.png: an animation of 2 frames; use a still image/);
  assert.match(skipped, /tiny\.png: 3×3 pixels is too small: at least 8 pixels a side/);
  assert.match(skipped, /too-wide\.png: 9000×4 pixels is over the limit of 8,000 pixels a side/);
  assert.match(skipped, /lying\.gif: the browser cannot decode it as an image/);
  assert.match(skipped, /empty\.png: the browser cannot decode it as an image/);

  // The 16-bit bar reads as the 8-bit bars do: the two thumbnails' pixels agree.
  const same = await page.evaluate(() => {
    const canvases = [...document.querySelectorAll('.own-class[data-class="bars"] .own-thumbs canvas')];
    const pixels = canvases.map((c) => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data));
    return pixels.length >= 2 && pixels.every((p) => p.join() === pixels[0].join());
  });
  assert.ok(same, 'every bar thumbnail (16-bit included) shows the same bar');

  // A second, bad upload changes nothing that was loaded.
  await page.locator('.own-class[data-class="bars"]').evaluate(async (el, bytes) => {
    const drop = new DataTransfer();
    drop.items.add(new File([new Uint8Array(bytes)], 'broken.png', { type: 'image/png' }));
    el.dispatchEvent(new DragEvent('drop', { dataTransfer: drop, bubbles: true, cancelable: true }));
  }, [...Buffer.from('not a png')]);
  await page.waitForFunction(() => /broken\.png/.test(document.querySelector('[data-testid="upload-messages"]').textContent));
  assert.deepEqual(await page.locator('[data-testid="class-summary"] [data-testid="class-count"]').allTextContents(), ['6 images', '6 images']);
  assert.deepEqual(lab.consoleErrors, []);
});
