// The claims about initialisation and optimisers (MISSION claims 6 and 7)
// as one-click experiments in the real page: layer health shows the signal
// vanishing under small weights and alive under He; the optimisers train
// side by side at their usual rates and a rate far too large stops alone,
// with its message, while the others finish.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labFor, byTestId } from './browser.mjs';

const waitState = (page, s, timeout = 120_000) => page.waitForFunction((want) => document.body.dataset.state === want, s, { timeout });

test('initialisation: five starts of a deep MLP, and layer health shows which signal survives', async (t) => {
  const lab = await labFor(t);
  const { page } = lab;
  await byTestId(page, 'experiment').selectOption('initialisation');
  await byTestId(page, 'epochs').fill('1');
  await page.locator('[data-testid="inside"] summary').click();
  await byTestId(page, 'train').click();
  await waitState(page, 'done');
  assert.deepEqual(await page.$$eval('[data-testid="runs"] li .run-name', (els) => els.map((e) => e.textContent)), ['ReLU, He', 'ReLU, Xavier', 'ReLU, small', 'tanh, Xavier', 'tanh, He']);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="health-charts"] .health-run').length === 5);
  // Four evaluations per epoch: four health records per run, one line per layer.
  assert.deepEqual(await page.$$eval('[data-testid="health-charts"] .health-run', (els) => els.map((e) => e.dataset.points)), ['4', '4', '4', '4', '4']);
  const acc = await page.$$eval('[data-testid="runs"] li [data-testid="run-test-acc"]', (els) => els.map((e) => Number(e.textContent)));
  assert.ok(acc[0] > 0.8, `He trains (test ${acc[0]})`);
  assert.ok(acc[2] < 0.3, `small weights do not (test ${acc[2]})`);
  // The small start's last ReLU layer: nearly every unit outputs zero for every probe image.
  await byTestId(page, 'health-measure').selectOption('dead');
  const small = page.locator('[data-testid="health-charts"] .health-run[data-run="ReLU, small"]');
  await small.locator('.health-histograms figcaption').first().waitFor();
  const lastRelu = (await small.locator('.health-histograms figcaption').allTextContents()).filter((text) => /relu/.test(text)).at(-1);
  assert.ok(Number(lastRelu.match(/(\d+) % dead/)[1]) >= 80, lastRelu);
  const he = page.locator('[data-testid="health-charts"] .health-run[data-run="ReLU, He"]');
  const heLast = (await he.locator('.health-histograms figcaption').allTextContents()).filter((text) => /relu/.test(text)).at(-1);
  assert.ok(Number(heLast.match(/(\d+) % dead/)[1]) <= 50, `He keeps most units alive: ${heLast}`);
  assert.deepEqual(lab.consoleErrors, []);
});

test('optimisers: each at its usual rate side by side; the one far too large stops alone with its message', async (t) => {
  const lab = await labFor(t);
  const { page } = lab;
  await byTestId(page, 'experiment').selectOption('optimizers');
  await byTestId(page, 'epochs').fill('1');
  await byTestId(page, 'train').click();
  await waitState(page, 'done');
  const rows = await page.$$eval('[data-testid="runs"] li', (els) => els.map((e) => ({ name: e.querySelector('.run-name').textContent, detail: e.querySelector('.run-detail').textContent, test: e.querySelector('[data-testid="run-test-acc"]').textContent, note: e.querySelector('[data-testid="run-note"]')?.textContent ?? null })));
  assert.deepEqual(rows.map((r) => r.name), ['SGD', 'SGD + momentum 0.9', 'Adam', 'RMSprop', 'Adagrad', 'SGD, far too large']);
  assert.deepEqual(rows.slice(0, 5).map((r) => r.detail), ['learning rate 0.01', 'learning rate 0.01', 'learning rate 0.001', 'learning rate 0.001', 'learning rate 0.01']);
  for (const r of rows.slice(0, 5)) {
    assert.equal(r.note, null, `${r.name} trained to the end`);
    assert.match(r.test, /^0\.\d{4}$/);
  }
  assert.match(rows[5].note, /^stopped: training diverged at step \d+: .* Try a smaller learning rate: 0\.1 instead of 1$/);
  assert.deepEqual(lab.consoleErrors, []);
});

test('the claims gallery runs a claim’s experiment and gives the verdict its rule gives the numbers', async (t) => {
  const lab = await labFor(t);
  const { page } = lab;
  await page.locator('[data-testid="claims"] summary').click();
  assert.equal(await page.locator('[data-testid="claim-card"]').count(), 8, 'a card per claim of MISSION.md');
  assert.equal(await page.locator('[data-testid="claim-card"] [data-testid="claim-run"]').count(), 8, 'each one can be run');
  const card = page.locator('[data-testid="claim-card"][data-claim="7"]');
  await card.locator('[data-testid="claim-run"]').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="claim-card"][data-claim="7"]').dataset.verdict, null, { timeout: 120_000 });
  // The rule, recomputed from the runs list: adaptive median ≥ SGD + 2 points, and the rate of 1 diverged.
  const rows = await page.$$eval('[data-testid="runs"] li', (els) => Object.fromEntries(els.map((e) => [e.querySelector('.run-name').textContent, { test: Number(e.querySelector('[data-testid="run-test-acc"]').textContent), note: e.querySelector('[data-testid="run-note"]')?.textContent ?? '' }])));
  const adaptive = [rows.Adam.test, rows.RMSprop.test, rows.Adagrad.test].sort((a, b) => a - b)[1];
  const ahead = adaptive - rows.SGD.test >= 0.02;
  const diverged = /diverged/.test(rows['SGD, far too large'].note);
  const expected = ahead && diverged ? 'holds' : !ahead && !diverged ? 'does not hold' : 'mixed';
  assert.equal(await card.getAttribute('data-verdict'), expected);
  assert.match(await card.locator('[data-testid="claim-outcome"]').textContent(), /^Measured: median of the adaptive ones 0\.\d{3} against SGD 0\.\d{3} \([+−]\d+\.\d points\); the rate of 1 (diverged|did not diverge)\.$/);
  assert.equal(await card.locator('[data-testid="claim-verdict"]').textContent(), { holds: 'holds here', 'does not hold': 'does not hold here', mixed: 'mixed' }[expected]);
  assert.deepEqual(lab.consoleErrors, []);
});
