// Page tests for the fine-tuning scenarios and controls: the real page,
// worker, wasm core, datasets and shipped base models, in headless Chromium.
// Each test opens a page of its own.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labFor, byTestId, nextFrames, waitForNew } from './browser.mjs';

const runNames = (page) => page.locator('[data-testid="runs"] li').evaluateAll((els) => els.map((el) => el.dataset.run));
const testAcc = async (page, run) => Number(await page.locator(`[data-run="${run}"] [data-testid="run-test-acc"]`).textContent());
const waitDone = (page, timeout = 90_000) => page.waitForFunction(() => document.body.dataset.state === 'done', null, { timeout });

test('layers can be frozen and given their own learning rate before the first Train', async (t) => {
  const lab = await labFor(t);
  const { page } = lab;
  await byTestId(page, 'start-from').selectOption('models/lenet5-mnist.ftlc');
  await byTestId(page, 'pretrained-lr').fill('0.1');
  // The panel previews the base's layers before any run exists, with the pretrained rate applied.
  await page.waitForFunction(() => document.querySelector('[data-testid="lr-mult-0"]')?.value === '0.1');
  assert.equal(await byTestId(page, 'lr-mult-11').inputValue(), '0.1', 'same classes: the head is the base’s, so it is pretrained too');
  await byTestId(page, 'freeze-0').check();
  await byTestId(page, 'lr-mult-7').fill('0.5');
  const typed = await byTestId(page, 'lr-mult-7').elementHandle();
  await byTestId(page, 'lr-mult-7').press('Tab');
  // The panel previews the next run again, with the choices applied.
  await waitForNew(page, '[data-testid="lr-mult-7"]', typed, { value: '0.5' });
  await byTestId(page, 'epochs').fill('1');
  await byTestId(page, 'train').click();
  await waitDone(page);
  // The run was configured with the choices: the worker's own layer list shows them.
  assert.equal(await byTestId(page, 'freeze-0').isChecked(), true);
  assert.equal(await byTestId(page, 'lr-mult-7').inputValue(), '0.5');
  assert.equal(await byTestId(page, 'lr-mult-3').inputValue(), '0.1');
  assert.ok(Number(await byTestId(page, 'test-acc').textContent()) > 0.9, 'a pretrained base fine-tuned for an epoch stays good');
  // Live: a new rate goes to the worker, which confirms it.
  await byTestId(page, 'lr-mult-9').fill('2');
  const edited = await byTestId(page, 'lr-mult-9').elementHandle();
  await byTestId(page, 'lr-mult-9').press('Tab');
  // The worker's confirmation re-renders the panel from its own layer list.
  await waitForNew(page, '[data-testid="lr-mult-9"]', edited);
  assert.equal(await byTestId(page, 'lr-mult-9').inputValue(), '2');
  // A bad rate is marked and not sent.
  await byTestId(page, 'lr-mult-9').fill('-1');
  await byTestId(page, 'lr-mult-9').press('Tab');
  assert.equal(await byTestId(page, 'lr-mult-9').getAttribute('aria-invalid'), 'true');
  assert.deepEqual(lab.consoleErrors, []);
});

test('the charts re-plot the same points by examples seen and by seconds', async (t) => {
  const lab = await labFor(t);
  const { page } = lab;
  await byTestId(page, 'model').selectOption('mlp');
  await byTestId(page, 'epochs').fill('1');
  await byTestId(page, 'train').click();
  await waitDone(page);
  await nextFrames(page); // the run's last points are drawn
  const points = await byTestId(page, 'acc-chart').getAttribute('data-points');
  assert.ok(Number(points) > 0);
  for (const axis of ['examples', 'seconds', 'epoch']) {
    await byTestId(page, 'x-axis').selectOption(axis);
    // The containers say which x-axis is drawn once it is.
    await page.waitForFunction((a) => document.querySelector('[data-testid="acc-chart"]').dataset.xAxis === a, axis);
    assert.equal(await byTestId(page, 'acc-chart').getAttribute('data-points'), points);
    assert.match(await page.locator('[data-testid="acc-chart"] .u-legend').innerText(), { epoch: /epoch/, examples: /examples seen/, seconds: /seconds/ }[axis]);
  }
});

test('domain shift: scratch, fine-tuned and head only on the same shifted digits', async (t) => {
  const lab = await labFor(t);
  const { page } = lab;
  await byTestId(page, 'pretrained-lr').fill('1');
  await byTestId(page, 'experiment').selectOption('domain-shift');
  await byTestId(page, 'shift-kind').selectOption('invert');
  assert.equal(await byTestId(page, 'shift-strength').inputValue(), '1', 'each shift brings its own default strength');
  await byTestId(page, 'labels-per-class').fill('5');
  await byTestId(page, 'epochs').fill('2');
  await byTestId(page, 'train').click();
  await waitDone(page);
  assert.deepEqual(await runNames(page), ['from scratch', 'fine-tuned', 'head only']);
  assert.match(await byTestId(page, 'run-info').textContent(), /: 50 training/);
  assert.match(await page.locator('[data-run="from scratch"] .run-detail').textContent(), /inverted 1, 5 labels per class/);
  for (const run of ['from scratch', 'fine-tuned', 'head only']) {
    const acc = await testAcc(page, run);
    assert.ok(acc >= 0 && acc <= 1, `${run}: ${acc}`);
  }
  // The base's own task is the unshifted digits, measured through its own head.
  const [before] = (await page.locator('[data-run="head only"] [data-testid="run-source-acc"]').textContent()).split(' → ').map(Number);
  assert.ok(before > 0.9, `the base knows unshifted digits (${before})`);
  // A strength out of range is caught in the form.
  await byTestId(page, 'shift-kind').selectOption('blur');
  await byTestId(page, 'shift-strength').fill('1.5');
  await byTestId(page, 'train').click();
  // The range is the core's to check: its answer comes back from the worker.
  await byTestId(page, 'form-error').waitFor({ state: 'visible' });
  assert.match(await byTestId(page, 'form-error').textContent(), /Shift strength must be a whole number from 0 to 3 pixels/);
  await byTestId(page, 'shift-strength').fill('1');
  assert.deepEqual(lab.consoleErrors, []);
});

test('different task and unfreezing depth: a Fashion-MNIST base learns digits', async (t) => {
  const lab = await labFor(t);
  const { page } = lab;
  await byTestId(page, 'experiment').selectOption('different-task');
  assert.equal(await byTestId(page, 'lr').inputValue(), '0.003');
  await byTestId(page, 'labels-per-class').fill('3');
  await byTestId(page, 'epochs').fill('1');
  await byTestId(page, 'train').click();
  await waitDone(page);
  assert.deepEqual(await runNames(page), ['from scratch', 'head only', 'convs frozen', 'all layers']);
  // 3 labels × 10 classes: 30 training images, in batches of the experiment’s 16.
  assert.match(await byTestId(page, 'run-info').textContent(), /classes 0 1 2 3 4 5 6 7 8 9: 30 training .* batch 16, 2 steps per epoch/);

  await byTestId(page, 'reset').click(); // so 'done' below is the new experiment's
  await byTestId(page, 'experiment').selectOption('unfreeze-depth');
  await byTestId(page, 'epochs').fill('1');
  await byTestId(page, 'train').click();
  await waitDone(page);
  const runs = await runNames(page);
  assert.deepEqual(runs, ['near, head only', 'near, all layers', 'far, head only', 'far, all layers']);
  // 3 labels × 5 classes is fewer than a batch of 16: the batch is the whole training set.
  assert.match(await byTestId(page, 'run-info').textContent(), /classes 5 6 7 8 9: 15 training .* batch 15, 1 step per epoch/);
  for (const run of runs) assert.ok((await testAcc(page, run)) > 0, run);
  assert.deepEqual(lab.consoleErrors, []);
});

test('Fashion-MNIST trains in free mode', async (t) => {
  const lab = await labFor(t);
  const { page } = lab;
  await byTestId(page, 'experiment').selectOption('free');
  await byTestId(page, 'dataset').selectOption('data/fashion-mnist.ftld.gz');
  await byTestId(page, 'model').selectOption('mlp');
  await byTestId(page, 'lr').fill('0.001');
  await byTestId(page, 'epochs').fill('1');
  await byTestId(page, 'train').click();
  await waitDone(page);
  assert.match(await byTestId(page, 'run-info').textContent(), /fashion-mnist.*16000 training \/ 2000 validation \/ 2000 test/);
  assert.ok(Number(await byTestId(page, 'test-acc').textContent()) > 0.6, 'one epoch of an MLP gets well past chance on clothes');
  assert.deepEqual(lab.consoleErrors, []);
});

test('a link carries the settings, and a garbled link is reported without breaking the page', async (t) => {
  const lab = await labFor(t);
  const { page } = lab;
  await byTestId(page, 'experiment').selectOption('domain-shift');
  await byTestId(page, 'shift-kind').selectOption('blur');
  await byTestId(page, 'labels-per-class').fill('20');
  await byTestId(page, 'aug-rotation').fill('20');
  await byTestId(page, 'share').click();
  const url = page.url();
  assert.match(url, /#.*experiment=domain-shift/);
  assert.match(url, /shiftKind=blur/);
  assert.match(url, /aug_rotation_deg=20/);

  const other = await page.context().newPage();
  await other.goto(url);
  await other.waitForFunction(() => document.body.dataset.state === 'idle');
  assert.equal(await byTestId(other, 'experiment').inputValue(), 'domain-shift');
  assert.equal(await byTestId(other, 'shift-kind').inputValue(), 'blur');
  assert.equal(await byTestId(other, 'labels-per-class').inputValue(), '20');
  assert.equal(await byTestId(other, 'aug-rotation').inputValue(), '20');
  assert.equal(await byTestId(other, 'lr').inputValue(), '0.003', 'the experiment’s own defaults apply');

  await other.goto(url.split('#')[0] + '#experiment=nonsense&lr=abc&colour=blue&epochs=7');
  await other.reload();
  await other.waitForFunction(() => document.body.dataset.state === 'idle');
  const text = await byTestId(other, 'status').textContent();
  assert.match(text, /“nonsense” is not a choice for experiment/);
  assert.match(text, /lr must be a number, not “abc”/);
  assert.match(text, /unknown setting “colour”/);
  assert.equal(await byTestId(other, 'epochs').inputValue(), '7', 'the readable settings still apply');
  assert.equal(await byTestId(other, 'experiment').inputValue(), 'free');
  await other.close();
  assert.deepEqual(lab.consoleErrors, []);
});

test('link values and names that look like HTML are shown as text, never run', async (t) => {
  const hostile = '<img src=x onerror="window.__pwned=1">';
  const lab = await labFor(t, { path: `#experiment=${encodeURIComponent(hostile)}&${encodeURIComponent(hostile)}=1&lr=${encodeURIComponent(hostile)}` });
  const { page } = lab;
  const text = await byTestId(page, 'status').textContent();
  assert.ok(text.includes(`“${hostile}” is not a choice for experiment`), text);
  assert.ok(text.includes(`unknown setting “${hostile}”`), text);
  assert.ok(text.includes(`lr must be a number, not “${hostile}”`), text);
  assert.equal(await page.locator('img[src="x"]').count(), 0);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.deepEqual(await lab.cspViolations(), []);
  assert.deepEqual(lab.consoleErrors, []);
});

test('the page states its limits, read from where they are enforced', async (t) => {
  const lab = await labFor(t);
  const { page } = lab;
  assert.equal(await byTestId(page, 'limits').textContent(), 'Limits: models of up to 20,000,000 parameters and 1,048,576 values per image at any layer; runs of up to 200 epochs; a batch of at most the run’s training images.');
  assert.match(await byTestId(page, 'own-limits').textContent(), /^Limits: images up to 20 MB and 8,000 pixels a side \(at least 8\), still images only; 10,000 images and 50 classes in all\. Each class needs at least 5 images/);
});

test('finished runs can be kept on the charts and compared with the next ones', async (t) => {
  const lab = await labFor(t);
  const { page } = lab;
  if (await byTestId(page, 'reset').isEnabled()) await byTestId(page, 'reset').click(); // so 'done' below is this run's
  await byTestId(page, 'experiment').selectOption('free');
  await byTestId(page, 'dataset').selectOption('data/mnist.ftld.gz');
  await byTestId(page, 'start-from').selectOption('');
  await byTestId(page, 'model').selectOption('mlp');
  await byTestId(page, 'epochs').fill('1');
  await byTestId(page, 'batch-size').fill('32');
  await byTestId(page, 'lr').fill('0.001');
  await byTestId(page, 'train').click();
  await page.waitForFunction(() => document.body.dataset.state === 'done', null, { timeout: 60_000 });
  await byTestId(page, 'keep').click();
  const first = await byTestId(page, 'kept-runs').innerText();
  assert.match(first, /kept 1\s+mlp · adam lr 0\.001 · batch 32 · 1 epochs\s+validation 0\.\d{4}\s+test 0\.\d{4}/);
  // A second configuration trains while the first stays on the charts.
  await byTestId(page, 'lr').fill('0.01');
  await byTestId(page, 'reset').click(); // Reset keeps the kept runs
  await byTestId(page, 'train').click();
  await page.waitForFunction(() => document.body.dataset.state === 'done', null, { timeout: 60_000 });
  await page.waitForFunction(() => document.querySelector('[data-testid="acc-chart"]').dataset.kept === '1');
  assert.match(await page.locator('[data-testid="acc-chart"] .u-legend').innerText(), /kept 1/);
  await byTestId(page, 'keep').click();
  assert.equal(await page.locator('[data-testid="kept-runs"] li').count(), 2);
  await page.locator('[data-testid="kept-runs"] li').first().locator('button').click();
  assert.equal(await page.locator('[data-testid="kept-runs"] li').count(), 1);
  assert.match(await byTestId(page, 'kept-runs').innerText(), /lr 0\.01 /);
  assert.equal(await byTestId(page, 'acc-chart').getAttribute('data-kept'), '1');
  assert.deepEqual(lab.consoleErrors, []);
});
