// Page tests for augmentation's live preview and training on your own images:
// PNG files made here (several classes, a file that is not an image) are
// uploaded as a folder, summarised, and trained on in headless Chromium.
// Each test opens a page of its own.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labFor, byTestId, waitForNew } from './browser.mjs';
import { makeShapeFolder } from './shape-folder.mjs';

test('the augmentation preview shows training images and changes when a slider moves', async (t) => {
  const lab = await labFor(t);
  const { page } = lab;
  const preview = byTestId(page, 'augment-preview');
  await page.waitForFunction(() => document.querySelector('[data-testid="augment-preview"]').dataset.fingerprint);
  const shown = await page.locator('[data-testid="augment-preview"] canvas').evaluate((c) => ({ images: c.dataset.images, width: c.width, height: c.height }));
  assert.deepEqual(shown, { images: '8', width: 8 * 32 - 2, height: 2 * 32 - 2 }, 'one canvas: 8 originals above 8 augmented, 28 px tiles 4 px apart');
  const before = await preview.getAttribute('data-fingerprint');
  await byTestId(page, 'aug-rotation').fill('30');
  await byTestId(page, 'aug-rotation-p').fill('1');
  await page.waitForFunction((fp) => document.querySelector('[data-testid="augment-preview"]').dataset.fingerprint !== fp, before);
  const rotated = await preview.getAttribute('data-fingerprint');
  // Same settings, same seed: the same augmented images (the preview is the core's seeded augmentation).
  const shownBefore = await page.locator('[data-testid="augment-preview"] canvas').elementHandle();
  await byTestId(page, 'aug-rotation').fill('30');
  await waitForNew(page, '[data-testid="augment-preview"] canvas', shownBefore); // drawn again
  assert.equal(await preview.getAttribute('data-fingerprint'), rotated);
  await byTestId(page, 'augment-none').click();
  await page.waitForFunction((fp) => document.querySelector('[data-testid="augment-preview"]').dataset.fingerprint === fp, before);
  assert.deepEqual(lab.consoleErrors, []);
});

test('a folder of your own images is summarised, bad files are listed, and a run on it learns', async (t) => {
  const lab = await labFor(t);
  const { page } = lab;
  const folder = await makeShapeFolder(page);
  await page.locator('[data-testid="own-images"] summary').click();
  await byTestId(page, 'upload').setInputFiles(folder);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="class-summary"] .own-class').length === 3, null, { timeout: 30_000 });
  const summary = await page.locator('[data-testid="class-summary"] .own-class').evaluateAll((rows) =>
    rows.map((r) => [r.dataset.class, r.querySelector('[data-testid="class-count"]').textContent, r.querySelector('[data-testid="class-split"]').textContent]),
  );
  assert.deepEqual(summary, [
    ['circle', '20 images', '16 train · 2 validation · 2 test'],
    ['square', '20 images', '16 train · 2 validation · 2 test'],
    ['triangle', '20 images', '16 train · 2 validation · 2 test'],
  ]);
  const skipped = await page.locator('[data-testid="skipped-files"] li').allTextContents();
  assert.ok(skipped.some((s) => /notes\.txt: not an image file/.test(s)), skipped.join('\n'));
  assert.ok(skipped.some((s) => /broken\.png: the browser cannot decode it/.test(s)), skipped.join('\n'));
  assert.equal(await page.locator('[data-testid="class-summary"] .own-thumbs canvas').count(), 12, 'four thumbnails per class');

  // A duplicate class name and a class with too few images are each told; nothing is lost.
  await byTestId(page, 'new-class-name').fill('Circle');
  await byTestId(page, 'add-class').click();
  assert.match(await byTestId(page, 'upload-messages').textContent(), /already a class named “circle”/);
  await byTestId(page, 'new-class-name').fill('star');
  await byTestId(page, 'add-class').click();
  assert.match(await byTestId(page, 'own-status').textContent(), /class “star” has 0 images; each class needs at least 5/);
  await byTestId(page, 'dataset').selectOption('own');
  await byTestId(page, 'train').click();
  await page.waitForFunction(() => /Your images: class “star” has 0 images/.test(document.querySelector('[data-testid="status"]').textContent));
  await page.locator('.own-class[data-class="star"] .own-remove').click();
  assert.equal(await page.locator('[data-testid="class-summary"] .own-class').count(), 3);

  // Train LeNet-5 (28×28 greyscale) on them: the loss falls and accuracy is measured on their held-out images.
  await byTestId(page, 'model').selectOption('lenet5');
  await byTestId(page, 'start-from').selectOption('');
  await byTestId(page, 'epochs').fill('15');
  await byTestId(page, 'batch-size').fill('8');
  await byTestId(page, 'lr').fill('0.003');
  await byTestId(page, 'train').click();
  await page.waitForFunction(() => document.body.dataset.state === 'done', null, { timeout: 60_000 });
  assert.match(await byTestId(page, 'run-info').textContent(), /your images \(28×28 greyscale\), classes circle square triangle: 48 training \/ 6 validation \/ 6 test/);
  const loss = Number(await byTestId(page, 'train-loss').textContent());
  assert.ok(loss < 0.9, `training loss fell from ln 3 ≈ 1.10 (now ${loss})`);
  const testAcc = Number(await byTestId(page, 'test-acc').textContent());
  assert.ok(testAcc >= 0 && testAcc <= 1);

  // 32×32 colour: the preset's first layer takes three channels.
  await page.selectOption('[data-testid="image-form"]', 'rgb32');
  await byTestId(page, 'epochs').fill('2');
  await byTestId(page, 'train').click();
  await page.waitForFunction(() => document.body.dataset.state === 'done' && /32×32 colour/.test(document.querySelector('[data-testid="run-info"]').textContent), null, { timeout: 60_000 });
  const conv = await page.locator('[data-testid="layers"] li').first().textContent();
  assert.match(conv, /conv2d\s*→ 6×32×32 · 456 params/, 'first convolution has 3 input channels: 6·(3·25)+6');

  // Fine-tuning a greyscale base on colour images converts them, and says so.
  await byTestId(page, 'start-from').selectOption('models/lenet5-mnist.ftlc');
  await byTestId(page, 'aug-rotation').fill('10');
  await byTestId(page, 'aug-rotation-p').fill('0.5');
  await byTestId(page, 'epochs').fill('1');
  await byTestId(page, 'train').click();
  await page.waitForFunction(() => /converted to 28×28 greyscale/.test(document.querySelector('[data-testid="run-info"]').textContent), null, { timeout: 60_000 });
  const info = await byTestId(page, 'run-info').textContent();
  assert.match(info, /your images \(28×28 greyscale\)/);
  assert.match(info, /augmentation: rotation ±10° \(p 0\.5\)/, 'the run’s augmentation is part of what the page reports');
  await page.waitForFunction(() => document.body.dataset.state === 'done', null, { timeout: 60_000 });

  // Image files dropped onto a class join it (a file that is not an image is listed).
  await page.evaluate(async () => {
    const canvas = new OffscreenCanvas(40, 30);
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#fff';
    ctx.beginPath();
    ctx.arc(20, 15, 10, 0, 7);
    ctx.fill();
    const png = await canvas.convertToBlob({ type: 'image/png' });
    const drop = new DataTransfer();
    drop.items.add(new File([png], 'dropped-1.png', { type: 'image/png' }));
    drop.items.add(new File([png], 'dropped-2.png', { type: 'image/png' }));
    drop.items.add(new File(['hello'], 'readme.txt', { type: 'text/plain' }));
    document.querySelector('.own-class[data-class="circle"]').dispatchEvent(new DragEvent('drop', { dataTransfer: drop, bubbles: true, cancelable: true }));
  });
  await page.waitForFunction(() => document.querySelector('.own-class[data-class="circle"] [data-testid="class-count"]').textContent === '22 images');
  assert.match(await byTestId(page, 'upload-messages').textContent(), /Class “circle”: 2 images added\..*readme\.txt: not an image file/s);
  assert.deepEqual(lab.consoleErrors, []);
});

test('class names that look like HTML are shown as text, never run', async (t) => {
  const lab = await labFor(t);
  const { page } = lab;
  await page.locator('[data-testid="own-images"] summary').click();
  const hostile = '<img src=x onerror="window.__pwned = 1">';
  await byTestId(page, 'new-class-name').fill(hostile);
  await byTestId(page, 'add-class').click();
  await byTestId(page, 'new-class-name').fill(hostile.toUpperCase());
  await byTestId(page, 'add-class').click(); // a clash: its message quotes the name too
  await byTestId(page, 'upload-messages').getByText('already a class named').waitFor();
  assert.ok((await byTestId(page, 'class-summary').textContent()).includes(hostile));
  assert.ok((await byTestId(page, 'upload-messages').textContent()).includes(hostile));
  assert.equal(await page.locator('[data-testid="own-images"] img[src="x"]').count(), 0);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.deepEqual(await lab.cspViolations(), []);
  assert.deepEqual(lab.consoleErrors, []);
});
