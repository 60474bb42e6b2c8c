// Page tests: the real page, the real worker and wasm core, the real MNIST
// file, in Debian's headless Chromium. Each test opens a page of its own.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labFor, byTestId, waitForNew } from './browser.mjs';

const stepOf = async (page) => {
  const text = await byTestId(page, 'status').textContent();
  const match = /step ([\d,]+)/.exec(text);
  return match ? Number(match[1].replace(/,/g, '')) : null;
};

test('trains the MLP on MNIST with live charts, and Pause stops progress', async (t) => {
  const lab = await labFor(t);
  const { page } = lab;
  await byTestId(page, 'model').selectOption('mlp');
  await byTestId(page, 'epochs').fill('20');
  await byTestId(page, 'train').click();

  // Validation accuracy rises well above chance (0.1) within seconds.
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="val-acc"]').textContent) > 0.8, null, { timeout: 60_000 });
  // The charts draw on the following animation frames.
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="loss-chart"]').dataset.points) >= 3);
  assert.ok(Number(await byTestId(page, 'train-loss').textContent()) < 2.3, 'training loss fell below the untrained ~2.3');
  assert.ok(Number((await byTestId(page, 'images-per-s').textContent()).replace(/,/g, '')) > 0);
  // The chart really drew lines: uPlot paints into a canvas.
  assert.equal(await page.locator('[data-testid="acc-chart"] canvas').count(), 1);

  await byTestId(page, 'pause').click();
  await page.waitForFunction(() => document.body.dataset.state === 'paused');
  // The worker's reply (its last progress, then 'paused') has landed.
  await page.waitForFunction(() => / · paused$/.test(document.querySelector('[data-testid="status"]').textContent));
  const stepAtPause = await stepOf(page);
  // The worker answers other requests meanwhile (a new preview), and trains no step.
  const preview = await page.locator('[data-testid="augment-preview"] canvas').elementHandle();
  await byTestId(page, 'preview-other').click();
  await waitForNew(page, '[data-testid="augment-preview"] canvas', preview);
  assert.equal(await stepOf(page), stepAtPause, 'no steps after Pause');

  // Step advances exactly one training step.
  await byTestId(page, 'step').click();
  await page.waitForFunction((s) => document.querySelector('[data-testid="status"]').textContent.includes(`step ${s + 1} `), stepAtPause);
  assert.equal(await stepOf(page), stepAtPause + 1, 'Step took the step after the pause: none in between');

  // Train resumes the same run instead of starting over.
  await byTestId(page, 'train').click();
  await page.waitForFunction(() => document.body.dataset.state === 'training');
  await page.waitForFunction((s) => {
    const match = /step ([\d,]+)/.exec(document.querySelector('[data-testid="status"]').textContent);
    return match && Number(match[1].replace(/,/g, '')) > s + 1;
  }, stepAtPause);
  assert.ok((await stepOf(page)) > stepAtPause + 1, 'the run resumed where it paused');
  await byTestId(page, 'pause').click();
  await page.waitForFunction(() => document.body.dataset.state === 'paused');
  assert.deepEqual(lab.consoleErrors, []);
});

test('bad field values are reported in the form and start nothing', async (t) => {
  const lab = await labFor(t);
  const { page } = lab;
  await byTestId(page, 'lr').fill('');
  await byTestId(page, 'dropout').fill('1.5');
  await byTestId(page, 'train').click();
  await byTestId(page, 'form-error').waitFor({ state: 'visible' });
  const message = await byTestId(page, 'form-error').textContent();
  assert.match(message, /Learning rate is empty\./);
  assert.match(message, /Dropout must be at least 0 and below 1\./);
  assert.equal(await page.evaluate(() => document.body.dataset.state), 'idle');
  await byTestId(page, 'dropout').fill('0');
  await byTestId(page, 'lr').fill('0.001');
  assert.equal(await byTestId(page, 'form-error').isHidden(), true);
});

test('the core’s ranges mark the form: a fraction in a whole-number box, a negative batch', async (t) => {
  const lab = await labFor(t);
  const { page } = lab;
  await byTestId(page, 'epochs').fill('2.5');
  await byTestId(page, 'batch-size').fill('-1');
  await byTestId(page, 'train').click();
  await byTestId(page, 'form-error').waitFor({ state: 'visible' });
  const message = await byTestId(page, 'form-error').textContent();
  assert.match(message, /Epochs must be a whole number from 1 to 200\./);
  assert.match(message, /Batch size must be a whole number ≥ 0\./);
  assert.equal(await byTestId(page, 'epochs').getAttribute('aria-invalid'), 'true');
  assert.equal(await byTestId(page, 'batch-size').getAttribute('aria-invalid'), 'true');
  assert.equal(await page.evaluate(() => document.body.dataset.state), 'idle');
  assert.deepEqual(lab.consoleErrors, []);
});

test('a batch larger than the training set is refused by the core before anything trains', async (t) => {
  const lab = await labFor(t);
  const { page } = lab;
  await byTestId(page, 'experiment').selectOption('overfitting'); // 200 training images
  await byTestId(page, 'batch-size').fill('500');
  await byTestId(page, 'train').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="status"]').classList.contains('error'), null, { timeout: 30_000 });
  assert.match(await byTestId(page, 'status').textContent(), /ConfigError: configuration: batch size \(batch_size\) must be at most the 200 training images \(0 = all of them in one batch\), got 500/);
  assert.equal(await page.evaluate(() => document.body.dataset.state), 'idle');
  assert.equal(await byTestId(page, 'batch-size').inputValue(), '500', 'the form keeps what the user typed');
  assert.deepEqual(lab.consoleErrors, []);
});

test('one click compares fine-tuning with training from scratch on new classes', async (t) => {
  const lab = await labFor(t);
  const { page } = lab;
  await byTestId(page, 'optimizer').selectOption('adam');
  await byTestId(page, 'lr').fill('0.001');
  await byTestId(page, 'l2').fill('0');
  await byTestId(page, 'experiment').selectOption('new-classes');
  assert.equal(await byTestId(page, 'model').inputValue(), 'lenet5', 'the experiment sets its model');
  await byTestId(page, 'labels-per-class').fill('5');
  await byTestId(page, 'epochs').fill('4');
  await byTestId(page, 'train').click();
  await page.waitForFunction(() => document.body.dataset.state === 'done', null, { timeout: 60_000 });
  const runs = page.locator('[data-testid="runs"] li');
  assert.deepEqual(await runs.evaluateAll((els) => els.map((el) => el.dataset.run)), ['from scratch', 'fine-tuned']);
  for (const name of ['from scratch', 'fine-tuned']) {
    const acc = Number(await page.locator(`[data-run="${name}"] [data-testid="run-test-acc"]`).textContent());
    assert.ok(acc > 0.2 && acc <= 1, `${name} has a final test accuracy (${acc})`);
  }
  assert.match(await byTestId(page, 'run-info').textContent(), /classes 5 6 7 8 9: 25 training/);
  // Both runs are on the charts: 2 runs × (training + validation) series.
  assert.equal(await page.locator('[data-testid="loss-chart"] .u-legend .u-series').count(), 5);
  assert.deepEqual(lab.consoleErrors, []);
});

test('the data-economy sweep plots final test accuracy for every K, scratch and fine-tuned', async (t) => {
  const lab = await labFor(t);
  const { page } = lab;
  await byTestId(page, 'experiment').selectOption('data-economy');
  await byTestId(page, 'epochs').fill('1'); // a short budget keeps the test quick
  await byTestId(page, 'train').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="sweep-chart"]').dataset.points === '8', null, { timeout: 120_000 });
  await page.waitForFunction(() => document.body.dataset.state === 'done');
  assert.match(await byTestId(page, 'status').textContent(), /sweep done/);
  assert.equal(await page.locator('[data-testid="sweep-chart"] .u-legend .u-series').count(), 3);
  assert.deepEqual(lab.consoleErrors, []);
});

test('the forgetting experiment charts the source task beside the new one', async (t) => {
  const lab = await labFor(t);
  const { page } = lab;
  await byTestId(page, 'experiment').selectOption('forgetting');
  await byTestId(page, 'labels-per-class').fill('5');
  await byTestId(page, 'epochs').fill('3');
  await byTestId(page, 'train').click();
  await page.waitForFunction(() => document.body.dataset.state === 'done', null, { timeout: 60_000 });
  const source = async (run) => (await page.locator(`[data-run="${run}"] [data-testid="run-source-acc"]`).textContent()).split(' → ').map(Number);
  const [before, after] = await source('head only');
  assert.ok(before > 0.95, `the untouched base knows digits 0–4 (${before})`);
  assert.equal(after, before, 'with every base layer frozen the source task cannot change');
  const [allBefore, allAfter] = await source('all layers');
  assert.equal(allBefore, before);
  assert.ok(allAfter >= 0 && allAfter <= 1);
  // 3 runs × (training, validation, source task) + x.
  assert.equal(await page.locator('[data-testid="acc-chart"] .u-legend .u-series').count(), 10);
  assert.deepEqual(lab.consoleErrors, []);
});

test('fine-tuning a pretrained base with layers frozen and unfrozen during the run', async (t) => {
  const lab = await labFor(t);
  const { page } = lab;
  await byTestId(page, 'experiment').selectOption('free');
  await byTestId(page, 'start-from').selectOption('models/lenet5-mnist.ftlc');
  await byTestId(page, 'epochs').fill('3');
  await byTestId(page, 'train').click();
  // The pretrained base is already good before its first step.
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="val-acc"]').textContent) > 0.95, null, { timeout: 30_000 });
  await byTestId(page, 'freeze-0').check();
  await page.waitForFunction(() => document.querySelector('[data-testid="freeze-0"]').checked);
  await byTestId(page, 'freeze-3').check();
  const shown = await byTestId(page, 'freeze-0').elementHandle();
  await byTestId(page, 'freeze-0').uncheck();
  // The worker confirms both: the panel shows its layer list again, layer 0 learning.
  await waitForNew(page, '[data-testid="freeze-0"]', shown, { checked: false });
  assert.equal(await byTestId(page, 'freeze-0').isChecked(), false);
  assert.equal(await byTestId(page, 'freeze-3').isChecked(), true);
  assert.equal(await page.locator('[data-testid="layers"] input[type="checkbox"]').count(), 5, 'two convolutions and three dense layers can be frozen');
  if (await byTestId(page, 'pause').isEnabled()) await byTestId(page, 'pause').click({ timeout: 5000 }).catch(() => {}); // it may already be done
  await byTestId(page, 'start-from').selectOption('');
  assert.deepEqual(lab.consoleErrors, []);
});

test('the overfitting experiment trains three regularisation settings on the same 200 images', async (t) => {
  const lab = await labFor(t);
  const { page } = lab;
  await byTestId(page, 'experiment').selectOption('overfitting');
  await byTestId(page, 'epochs').fill('2');
  await byTestId(page, 'train').click();
  await page.waitForFunction(() => document.body.dataset.state === 'done', null, { timeout: 60_000 });
  const runs = await page.locator('[data-testid="runs"] li').evaluateAll((els) => els.map((el) => el.dataset.run));
  assert.deepEqual(runs, ['no regularisation', 'augmentation', 'dropout + L2']);
  assert.match(await byTestId(page, 'run-info').textContent(), /200 training/);
  for (const name of runs) {
    const acc = Number(await page.locator(`[data-run="${name}"] [data-testid="run-test-acc"]`).textContent());
    assert.ok(acc > 0.1 && acc <= 1, `${name}: ${acc}`);
  }
  assert.deepEqual(lab.consoleErrors, []);
});

// The worker script is served broken (it throws once started) for the first
// `broken` loads, then as it is.
const breakWorker = (broken) => async (page) => {
  let loads = 0;
  await page.route(/\/worker\.js(\?|$)/, (route) => {
    loads += 1;
    if (loads > broken) return route.continue();
    return route.fulfill({ contentType: 'text/javascript', body: "setTimeout(() => { throw new Error('the test broke this worker'); }, 0);" });
  });
};

test('a crashed worker is restarted and the page says so', async (t) => {
  const lab = await labFor(t, { beforeGoto: breakWorker(1) });
  const { page } = lab;
  // The restarted worker loaded the core: the page is idle, and says what happened.
  assert.match(await byTestId(page, 'status').textContent(), /The training worker stopped \(.*the test broke this worker.*\); a new one is starting/);
  assert.equal(await byTestId(page, 'train').isEnabled(), true);
  await byTestId(page, 'model').selectOption('mlp');
  await byTestId(page, 'epochs').fill('1');
  await byTestId(page, 'train').click();
  await page.waitForFunction(() => document.body.dataset.state === 'done', null, { timeout: 60_000 });
  assert.ok(Number(await byTestId(page, 'test-acc').textContent()) > 0.8);
});

test('a worker that cannot start is not restarted in a loop', async (t) => {
  const lab = await labFor(t, { beforeGoto: breakWorker(Infinity), readyState: 'crashed' });
  const { page } = lab;
  await page.waitForFunction(() => /cannot start/.test(document.querySelector('[data-testid="status"]').textContent));
  assert.match(await byTestId(page, 'status').textContent(), /The training worker cannot start \(.*the test broke this worker.*\)\. Reload the page/);
  for (const button of ['train', 'pause', 'step', 'reset', 'keep']) assert.equal(await byTestId(page, button).isEnabled(), false, button);
});

test('the page trains under its strict Content-Security-Policy and asks no other origin for anything', async (t) => {
  const lab = await labFor(t);
  const { page } = lab;
  const header = (await page.request.get(lab.url)).headers()['content-security-policy'];
  assert.match(header, /script-src 'self' 'wasm-unsafe-eval';/);
  assert.doesNotMatch(header, /'unsafe-inline'|'unsafe-eval'/);
  const meta = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  assert.equal(meta, header, 'static hosts get the same policy from the <meta>');
  await byTestId(page, 'model').selectOption('mlp');
  await byTestId(page, 'epochs').fill('1');
  await byTestId(page, 'augment-standard').click();
  await byTestId(page, 'train').click();
  await page.waitForFunction(() => document.body.dataset.state === 'done', null, { timeout: 60_000 });
  await byTestId(page, 'keep').click();
  assert.deepEqual(await lab.cspViolations(), []);
  assert.deepEqual(lab.foreignRequests, []);
  assert.deepEqual(lab.consoleErrors, []);
});
