// Accessibility page tests: axe-core on the idle page and after a short
// run, in the light and the dark scheme, plus what axe cannot judge: the
// sliders' names, a live region that stays quiet while training, and no
// sideways scrolling on a phone.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { labFor, byTestId } from './browser.mjs';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

// axe's serious and critical findings, one readable line per element.
async function axeProblems(page) {
  // The page's CSP admits only its own scripts; the test's context bypasses it.
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: AXE });
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary.replace(/\s+/g, ' ').slice(0, 240)}`) }));
  });
  return violations.flatMap((v) => v.nodes.map((n) => `[${v.impact}] ${v.id} (${v.help}) — ${n}`));
}

async function trainShortRun(page) {
  await byTestId(page, 'model').selectOption('mlp');
  await byTestId(page, 'epochs').fill('1');
  await byTestId(page, 'train').click();
  await page.waitForFunction(() => document.body.dataset.state === 'done', null, { timeout: 60_000 });
}

const schemes = ['light', 'dark'];

test('axe finds nothing serious on the idle page and after a run, light and dark', async (t) => {
  const lab = await labFor(t, { contextOptions: { bypassCSP: true } });
  const { page } = lab;
  const problems = [];
  for (const colorScheme of schemes) {
    await page.emulateMedia({ colorScheme });
    problems.push(...(await axeProblems(page)).map((p) => `idle, ${colorScheme}: ${p}`));
  }
  await trainShortRun(page);
  // The saved run's row and the chart table are on the page now too.
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="saved-runs"] li').length > 0);
  await page.locator('[data-testid="own-images"] summary').click();
  for (const colorScheme of schemes) {
    await page.emulateMedia({ colorScheme });
    problems.push(...(await axeProblems(page)).map((p) => `after a run, ${colorScheme}: ${p}`));
  }
  assert.deepEqual(problems, [], `\n${problems.join('\n')}`);
  assert.deepEqual(lab.consoleErrors, []);
});

test('every augmentation slider says what it sets', async (t) => {
  const { page } = await labFor(t);
  await page.waitForFunction(() => document.querySelectorAll('.augment-rows input[type="range"]').length > 0);
  assert.equal(await page.getByRole('slider', { name: 'Rotation ±, degrees', exact: true }).count(), 1);
  assert.equal(await page.getByRole('slider', { name: 'Rotation probability', exact: true }).count(), 1);
  const names = await page.evaluate(() => [...document.querySelectorAll('.augment-rows input[type="range"]')].map((i) => i.getAttribute('aria-label')));
  assert.ok(names.length >= 10 && names.every((name) => name && name.length > 4), names.join(' | '));
  assert.equal(new Set(names).size, names.length, `slider names are told apart: ${names.join(' | ')}`);
});

test('the live region tells state changes, not every progress message', async (t) => {
  const { page } = await labFor(t);
  await page.evaluate(() => {
    window.__announced = [];
    const live = document.querySelector('[aria-live="polite"][data-testid="status-live"]');
    new MutationObserver(() => window.__announced.push(live.textContent)).observe(live, { childList: true, characterData: true, subtree: true });
  });
  await byTestId(page, 'model').selectOption('mlp');
  await byTestId(page, 'epochs').fill('1');
  await byTestId(page, 'train').click();
  await page.waitForFunction(() => document.body.dataset.state === 'done', null, { timeout: 60_000 });
  const announced = await page.evaluate(() => window.__announced);
  // Preparing, training, done (and its test accuracy): a handful, not one per progress message.
  assert.ok(announced.length <= 5, announced.join('\n'));
  assert.match(announced.at(-1), /done/i);
  // The visible line still shows the run's progress.
  assert.match(await byTestId(page, 'status').textContent(), /Epoch 1\.00 \/ 1 · step .* · done/);
  // The line the tests read is not itself live (it changes several times a second).
  assert.equal(await byTestId(page, 'status').getAttribute('aria-live'), null);
});

for (const width of [320, 360]) {
  test(`nothing scrolls sideways at ${width} px, with a run trained and saved`, async (t) => {
    const { page } = await labFor(t, { contextOptions: { viewport: { width, height: 800 } } });
    await trainShortRun(page);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="saved-runs"] li').length > 0);
    await page.locator('[data-testid="own-images"] summary').click();
    const { scrollWidth, innerWidth, wide } = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      innerWidth: window.innerWidth,
      // What sticks out, to say where to look.
      wide: [...document.querySelectorAll('body *')]
        .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5)
        .slice(0, 8)
        .map((el) => `${el.tagName.toLowerCase()}.${el.className}`),
    }));
    assert.equal(scrollWidth, innerWidth, `sticks out: ${wide.join(', ')}`);
  });
}

test('the action bar stays in view while the form scrolls', async (t) => {
  for (const width of [1280, 360]) {
    const { page } = await labFor(t, { contextOptions: { viewport: { width, height: width > 800 ? 900 : 740 } } });
    for (const y of [0, 600, 1500]) {
      await page.evaluate((top) => window.scrollTo(0, top), y);
      const box = await byTestId(page, 'train').boundingBox();
      const height = page.viewportSize().height;
      assert.ok(box.y >= 0 && box.y + box.height <= height, `Train at ${width} px, scrolled ${y}: ${JSON.stringify(box)}`);
    }
  }
});
