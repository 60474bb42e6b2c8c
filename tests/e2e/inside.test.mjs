// "Inside the network" in the real page: the first layer's filters redrawn
// as a run learns, a drawn digit centred and scaled as MNIST's are and
// classified by every run, and a held-out split with its confusion matrix
// and mistakes, a cell showing only its images.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labFor, byTestId } from './browser.mjs';

const firstFilter = (page) => page.evaluate(() => document.querySelector('[data-testid="filters"] canvas')?.toDataURL() ?? null);

test('filters are drawn for every run and change as the run learns', async (t) => {
  const lab = await labFor(t);
  const { page } = lab;
  await byTestId(page, 'experiment').selectOption('new-classes');
  await byTestId(page, 'epochs').fill('60');
  await page.locator('[data-testid="inside"] summary').click();
  await byTestId(page, 'train').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="filters"] .filter-group').length === 2, null, { timeout: 30_000 });
  // From scratch: its six conv1 filters; fine-tuned: its base's six, then its own (a label, then six canvases).
  const grids = await page.$$eval('[data-testid="filters"] .filter-group', (groups) => groups.map((g) => [...g.querySelectorAll('.filter-grid')].map((row) => `${row.dataset.of || ''}:${row.querySelectorAll('canvas').length}`)));
  assert.deepEqual(grids, [[':6', 'second:16'], ['base:6', 'now:6', 'second:16']], 'and the second convolution’s 16 as a grid');
  const before = await firstFilter(page);
  await page.waitForFunction((old) => document.querySelector('[data-testid="filters"] canvas')?.toDataURL() !== old, before, { timeout: 30_000 });
  await byTestId(page, 'pause').click();
  assert.deepEqual(lab.consoleErrors, []);
});

test('a drawing is centred like MNIST and every run gives its probabilities; the split view shows the mistakes', async (t) => {
  const lab = await labFor(t);
  const { page } = lab;
  // The pad's conversion, on a stroke in a corner: the result fits 20×20 and its centre of mass is the centre.
  const converted = await page.evaluate(async () => {
    const { DrawingPad } = await import('./drawing-pad.js');
    const canvas = Object.assign(document.createElement('canvas'), { width: 168, height: 168 });
    const pad = new DrawingPad(canvas, () => {});
    pad.stroke([10, 10], [10, 60]);
    const px = pad.pixels();
    let [mass, mx, my, x0, x1, y0, y1] = [0, 0, 0, 28, -1, 28, -1];
    px.forEach((v, i) => {
      const [x, y] = [i % 28, Math.floor(i / 28)];
      mass += v;
      mx += v * x;
      my += v * y;
      if (v > 20) [x0, x1, y0, y1] = [Math.min(x0, x), Math.max(x1, x), Math.min(y0, y), Math.max(y1, y)];
    });
    return { cx: mx / mass, cy: my / mass, width: x1 - x0 + 1, height: y1 - y0 + 1 };
  });
  assert.ok(Math.abs(converted.cx - 14) <= 1 && Math.abs(converted.cy - 14) <= 1, `centre of mass ${converted.cx}, ${converted.cy}`);
  assert.ok(converted.height >= 18 && converted.height <= 21 && converted.width < converted.height, `${converted.width}×${converted.height}`);

  await byTestId(page, 'model').selectOption('mlp');
  await byTestId(page, 'epochs').fill('1');
  await byTestId(page, 'train').click();
  await page.waitForFunction(() => document.body.dataset.state === 'done', null, { timeout: 60_000 });
  await page.locator('[data-testid="inside"] summary').click();
  // The MLP's first dense layer: each unit's 784 weights drawn as a 28×28 image, the first 32 units.
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="filters"] canvas').length === 32);
  const pad = await byTestId(page, 'draw-pad').boundingBox();
  await page.mouse.move(pad.x + 84, pad.y + 25);
  await page.mouse.down();
  await page.mouse.move(pad.x + 86, pad.y + 145, { steps: 12 });
  await page.mouse.up();
  await page.waitForFunction(() => document.querySelector('[data-testid="draw-probabilities"] .draw-run')?.dataset.best);
  const shown = await page.$$eval('[data-testid="draw-probabilities"] .draw-run li > span:last-child', (spans) => spans.map((s) => parseFloat(s.textContent)));
  assert.equal(shown.length, 10);
  assert.ok(Math.abs(shown.reduce((a, b) => a + b, 0) - 100) < 1, `the ten shown probabilities add up to 100 % (${shown})`);
  assert.equal(await page.locator('.draw-run').getAttribute('data-best'), '1', 'a vertical stroke is a one');

  // Every layer's output for a test image, then for the drawing: the MLP's six layers after the image.
  await byTestId(page, 'act-test').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="activations"] .act-layer').length === 7);
  assert.match(await page.locator('[data-testid="activations"] .act-input figcaption').textContent(), /^run: the image \(a \d\)$/);
  assert.deepEqual(await page.$$eval('[data-testid="activations"] .act-layer[data-layer] figcaption', (cs) => cs.map((c) => c.textContent.split(' →')[0])), ['0 flatten', '1 dense', '2 relu', '3 dense', '4 relu', '5 dense']);
  await byTestId(page, 'act-drawing').click();
  await page.waitForFunction(() => /the image$/.test(document.querySelector('[data-testid="activations"] .act-input figcaption')?.textContent ?? ''));
  assert.equal(await page.locator('[data-testid="activations"] .act-layer[data-layer="5"]').getAttribute('data-best'), '1', 'the drawing’s last layer agrees with the pad');

  await byTestId(page, 'inspect-run').click();
  await byTestId(page, 'inspect-summary').waitFor({ timeout: 30_000 });
  const view = await page.evaluate(() => {
    const rows = [...document.querySelectorAll('[data-testid="inspect-result"] [data-testid="eval-confusion"] tr')].slice(1).map((tr) => [...tr.querySelectorAll('td')].map((td) => Number(td.textContent)));
    const perClass = [...document.querySelectorAll('[data-testid="inspect-result"] [data-testid="eval-per-class"] li > span:last-child')].map((s) => Number(s.textContent.split(' of ')[1]));
    return { rows, perClass, summary: document.querySelector('[data-testid="inspect-summary"]').textContent, mistakes: document.querySelectorAll('[data-testid="mistakes"] figure').length };
  });
  assert.equal(view.rows.flat().reduce((a, b) => a + b, 0), 999, 'every validation image is counted once');
  assert.deepEqual(view.rows.map((r) => r.reduce((a, b) => a + b, 0)), view.perClass);
  const wrong = 999 - view.rows.reduce((a, r, i) => a + r[i], 0);
  assert.equal(view.mistakes, Math.min(24, wrong));
  assert.match(view.summary, new RegExp(`^run: ${((100 * (999 - wrong)) / 999).toFixed(1)} % of 999 validation images right$`));
  // A cell shows only its images.
  const cell = page.locator('[data-testid="inspect-result"] button.cell').first();
  await cell.click();
  const shownCell = await page.$$eval('[data-testid="mistakes"] figure', (fs) => [...new Set(fs.map((f) => `${f.dataset.label}>${f.dataset.predicted}`))]);
  assert.ok(shownCell.length <= 1, `one cell's images only: ${shownCell}`);
  assert.deepEqual(lab.consoleErrors, []);
});
