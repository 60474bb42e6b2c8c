// Links, classrooms and embeds in the real page: the URL-state table round
// trip (per-layer choices included), the same link giving the same run, a
// new link applied without a reload, hidden and locked controls, and the
// lesson page's two embeds (an iframe and a <finetune-lab> element): they
// load and train, their events arrive in order with the documented fields,
// a malformed message is refused with an error event, and an embed scrolled
// out of view stops training until it is seen again.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labFor, byTestId } from './browser.mjs';

const state = (page) => page.evaluate(() => document.body.dataset.state);
const waitState = (page, s, timeout = 60_000) => page.waitForFunction((want) => document.body.dataset.state === want, s, { timeout });

test('a link round-trips every setting, per-layer choices and the x-axis included', async (t) => {
  const hash = '#model=mlp&lr=0.01&seed=7&x=examples&freeze=1&layer_lr=3%3A0.5';
  const lab = await labFor(t, { path: `index.html${hash}` });
  const { page } = lab;
  assert.equal(await byTestId(page, 'model').inputValue(), 'mlp');
  assert.equal(await byTestId(page, 'lr').inputValue(), '0.01');
  assert.equal(await byTestId(page, 'x-axis').inputValue(), 'examples');
  // The layers panel previews the run with the link's per-layer choices.
  await page.waitForFunction(() => document.querySelector('[data-testid="freeze-1"]')?.checked === true);
  assert.equal(await byTestId(page, 'lr-mult-3').inputValue(), '0.5');
  await page.evaluate(() => history.replaceState(null, '', location.pathname));
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await byTestId(page, 'share').click();
  await page.waitForFunction(() => location.hash.length > 1);
  const written = new URLSearchParams((await page.evaluate(() => location.hash)).slice(1));
  assert.deepEqual(Object.fromEntries(written), { model: 'mlp', lr: '0.01', seed: '7', x: 'examples', freeze: '1', layer_lr: '3:0.5' });

  // A new link applies without a reload, and settings it leaves out go back to their defaults.
  await page.evaluate(() => (location.hash = '#lr=0.05&optimizer=sgd'));
  await page.waitForFunction(() => document.querySelector('[data-testid="lr"]').value === '0.05');
  assert.equal(await byTestId(page, 'model').inputValue(), 'lenet5', 'the default model again');
  assert.equal(await byTestId(page, 'optimizer').inputValue(), 'sgd');
  assert.equal(await byTestId(page, 'x-axis').inputValue(), 'epoch');
  await page.waitForFunction(() => document.querySelector('[data-testid="freeze-0"]')?.checked === false, null, { timeout: 10_000 });
  // A garbled entry is named; the rest applies.
  await page.evaluate(() => (location.hash = '#lr=0.02&freeze=x&hide=nothing-such&lock=2'));
  await page.waitForFunction(() => /partly unreadable/.test(document.querySelector('[data-testid="status"]').textContent));
  const said = await byTestId(page, 'status').textContent();
  assert.match(said, /freeze takes layer numbers, not “x”/);
  assert.match(said, /hide names “nothing-such”, which the page does not have/);
  assert.match(said, /lock must be 0 or 1, not “2”/);
  assert.equal(await byTestId(page, 'lr').inputValue(), '0.02');
  assert.deepEqual(lab.consoleErrors, []);
});

test('the same link gives the same run: the same first metrics, twice', async (t) => {
  const link = 'index.html#model=mlp&epochs=1&seed=11&lr=0.002&batchSize=64';
  const results = [];
  for (let i = 0; i < 2; i++) {
    const lab = await labFor(t, { path: link });
    const { page } = lab;
    await byTestId(page, 'train').click();
    await waitState(page, 'done');
    // Evaluations and training points come at fixed steps, whatever the timing of the messages.
    results.push({ val: await byTestId(page, 'val-acc').textContent(), test: await byTestId(page, 'test-acc').textContent(), loss: await byTestId(page, 'train-loss').textContent() });
    await lab.close();
  }
  assert.match(results[0].val, /^0\.\d{4}$/);
  assert.deepEqual(results[1], results[0]);
});

test('hidden controls are gone but their readouts stay; a locked page still trains', async (t) => {
  const lab = await labFor(t, { path: 'index.html#model=mlp&epochs=1&hide=lr,optimizer,augmentation,layers,your-images&lock=1&text=0' });
  const { page } = lab;
  for (const id of ['lr', 'optimizer']) {
    assert.equal(await byTestId(page, id).count(), 1, `${id} keeps its data-testid`);
    assert.equal(await byTestId(page, id).isVisible(), false, `${id} is hidden`);
  }
  assert.equal(await page.locator('[data-panel="augmentation"]').isVisible(), false);
  assert.equal(await page.locator('header').isVisible(), false, 'text=0 hides the header');
  // Locked: settings read-only, the run's buttons work.
  assert.equal(await byTestId(page, 'epochs').isDisabled(), true);
  assert.equal(await byTestId(page, 'model').isDisabled(), true);
  await byTestId(page, 'train').click();
  await waitState(page, 'done');
  assert.match(await byTestId(page, 'val-acc').textContent(), /^0\.\d{4}$/, 'the validation readout stays');
  assert.equal(await byTestId(page, 'epochs').isDisabled(), true, 'still locked after the run');
  await byTestId(page, 'reset').click();
  assert.equal(await state(page), 'idle');
  assert.deepEqual(lab.consoleErrors, []);
});

test('the lesson page’s iframe and element both load and train; events come in order; bad messages are refused', async (t) => {
  const lab = await labFor(t, { path: 'embed-example.html', readyState: null });
  const { page } = lab;
  const iframe = page.frameLocator('[data-testid="lesson-iframe"]');
  await iframe.locator('body[data-state="idle"]').waitFor({ timeout: 30_000 });
  assert.equal(await iframe.locator('[data-testid="lr"]').isVisible(), false, 'the lesson hides the optimiser settings');
  assert.equal(await iframe.locator('[data-testid="labels-per-class"]').isDisabled(), true, 'and locks the rest');
  await iframe.locator('[data-testid="train"]').click();
  await iframe.locator('body[data-state="done"]').waitFor({ timeout: 90_000 });
  assert.equal(await iframe.locator('[data-testid="runs"] li').count(), 2, 'scratch and fine-tuned');

  // The element starts by itself once it is scrolled into view.
  const element = page.locator('finetune-lab');
  await element.scrollIntoViewIfNeeded();
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="event-log"] li')].some((li) => li.dataset.type === 'done'), null, { timeout: 90_000 });
  const events = await page.$$eval('[data-testid="event-log"] li', (items) => items.map((li) => ({ type: li.dataset.type, detail: JSON.parse(li.textContent.slice(li.dataset.type.length + 1)) })));
  assert.equal(events[0].type, 'ready');
  assert.deepEqual(Object.keys(events[0].detail).sort(), ['experiment', 'state']);
  const progress = events.filter((e) => e.type === 'progress');
  assert.ok(progress.length >= 1, 'progress while training');
  for (const p of progress) assert.deepEqual(Object.keys(p.detail).sort(), ['epoch', 'state', 'step', 'total_steps', 'train_loss', 'val_acc']);
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i].detail.step >= progress[i - 1].detail.step, 'steps only grow');
  assert.equal(events.at(-1).type, 'done');
  assert.deepEqual(Object.keys(events.at(-1).detail.runs[0]).sort(), ['name', 'test_acc', 'val_acc']);
  assert.ok(events.at(-1).detail.runs[0].test_acc > 0.5);
  // The element took the embed's height (resize events).
  assert.ok((await element.locator('iframe').evaluate((f) => f.getBoundingClientRect().height)) >= 560);

  // Malformed messages: each answered with an error event; nothing changes.
  const refusals = await element.evaluate(async (el) => {
    const errors = [];
    el.addEventListener('error', (e) => errors.push(e.detail));
    const frame = el.querySelector('iframe').contentWindow;
    const lr = () => frame.document.querySelector('[data-testid="lr"]').value;
    const before = lr();
    frame.postMessage({ source: 'finetune-lab-host', v: 1, type: 'explode' }, '*');
    frame.postMessage({ source: 'finetune-lab-host', v: 2, type: 'train' }, '*');
    frame.postMessage('train', '*');
    el.set('lr', 'fast');
    el.set('no-such-setting', '1');
    el.set('lr', '0.003'); // a good one, applied
    await new Promise((resolve) => setTimeout(resolve, 500));
    return { errors, before, after: lr() };
  });
  assert.deepEqual(refusals.errors.map((e) => e.code), Array(5).fill('EmbedMessageError'));
  assert.match(refusals.errors[0].message, /unknown message type "explode"/);
  assert.match(refusals.errors[1].message, /message version 2 is not this embed’s version 1/);
  assert.match(refusals.errors[3].message, /set lr: lr must be a number, not “fast”/);
  assert.match(refusals.errors[4].message, /unknown setting “no-such-setting”/);
  assert.equal(refusals.after, '0.003');
  assert.deepEqual(lab.consoleErrors, []);
});

test('an embed scrolled out of view pauses, and trains on when it is seen again', async (t) => {
  const lab = await labFor(t, { path: 'embed-example.html', readyState: null });
  const { page } = lab;
  // A long run at the top of the lesson, then a long page below it.
  await page.evaluate(() => {
    const lab = document.createElement('finetune-lab');
    for (const [k, v] of Object.entries({ 'data-testid': 'long-run', model: 'mlp', epochs: '40', autostart: '1', height: '400' })) lab.setAttribute(k, v);
    document.querySelector('article').prepend(lab);
    document.querySelector('article').append(Object.assign(document.createElement('div'), { style: 'height: 6000px' }));
  });
  const frame = page.frameLocator('[data-testid="long-run"] iframe');
  await frame.locator('body[data-state="training"]').waitFor({ timeout: 60_000 });
  const step = () => frame.locator('[data-testid="status"]').evaluate((el) => Number((el.textContent.match(/step ([\d,]+)/) || [null, '0'])[1].replace(/,/g, '')));
  await page.evaluate(() => window.scrollTo(0, 5000));
  await frame.locator('body[data-state="paused"]').waitFor({ timeout: 10_000 });
  const pausedAt = await step();
  await page.waitForTimeout(1500);
  assert.equal(await step(), pausedAt, 'no progress while out of view');
  await page.evaluate(() => window.scrollTo(0, 0));
  await frame.locator('body[data-state="training"]').waitFor({ timeout: 10_000 });
  for (let i = 0; i < 100 && (await step()) <= pausedAt; i++) await page.waitForTimeout(100);
  assert.ok((await step()) > pausedAt, 'training goes on once seen');
  assert.deepEqual(lab.consoleErrors, []);
});

test('a tutorial’s steps apply their settings, with Next and Back, and each step has its own link', async (t) => {
  const lab = await labFor(t, { path: 'index.html#tutorial=scratch' });
  const { page } = lab;
  const step = byTestId(page, 'tutorial-step');
  await step.waitFor();
  assert.equal(await step.getAttribute('data-step'), '1');
  assert.equal(await byTestId(page, 'tutorial-back').isDisabled(), true);
  assert.equal(await byTestId(page, 'model').inputValue(), 'mlp');
  assert.equal(await byTestId(page, 'epochs').inputValue(), '2');
  await byTestId(page, 'tutorial-next').click();
  assert.equal(await step.getAttribute('data-step'), '2');
  assert.equal(await byTestId(page, 'init').inputValue(), 'uniform');
  assert.equal(await byTestId(page, 'init-scale').inputValue(), '0.001');
  assert.match(await page.evaluate(() => location.hash), /tutorial=scratch%2F2/);
  await byTestId(page, 'tutorial-next').click();
  // A step's settings replace the previous step's: the initialisation is back to its default.
  assert.equal(await byTestId(page, 'init').inputValue(), 'he-uniform');
  assert.equal(await byTestId(page, 'optimizer').inputValue(), 'sgd');
  await byTestId(page, 'tutorial-back').click();
  assert.equal(await byTestId(page, 'init').inputValue(), 'uniform');
  assert.equal(await byTestId(page, 'optimizer').inputValue(), 'adam');
  // The button to press is marked, and pressing it trains the step's run.
  assert.equal(await page.evaluate(() => document.querySelector('[data-testid="train"]').classList.contains('tutorial-mark')), true);
  await byTestId(page, 'train').click();
  await waitState(page, 'done');

  // Opening a step's link gives that step; the second tutorial has its own steps.
  await page.evaluate(() => (location.hash = '#tutorial=finetune/2'));
  await page.waitForFunction(() => document.querySelector('[data-testid="tutorial-step"]').dataset.step === '2');
  assert.equal(await byTestId(page, 'experiment').inputValue(), 'new-classes');
  assert.equal(await byTestId(page, 'labels-per-class').inputValue(), '50');
  assert.deepEqual(lab.consoleErrors, []);
});

test('the share dialog builds the link and both snippets from the settings and its ticks, with a live preview', async (t) => {
  const lab = await labFor(t, { path: 'index.html#model=mlp&lr=0.01' });
  const { page } = lab;
  await byTestId(page, 'open-share').click();
  const dialog = byTestId(page, 'share-dialog');
  assert.equal(await dialog.isVisible(), true);
  await dialog.locator('[data-hide="optimisation"]').check();
  await dialog.locator('[data-hide="your-images"]').check();
  await dialog.locator('input[name="lock"]').check();
  await dialog.locator('input[name="text"]').uncheck();
  const iframe = await byTestId(page, 'embed-snippet').inputValue();
  assert.match(iframe, /^<iframe src="http:\/\/127\.0\.0\.1:\d+\/embed\.html#model=mlp&amp;lr=0\.01&amp;hide=optimisation%2Cyour-images&amp;lock=1&amp;text=0" title="Fine-Tune Lab" loading="lazy"/);
  const element = await byTestId(page, 'embed-element-snippet').inputValue();
  assert.match(element, /<script type="module" src="http:\/\/127\.0\.0\.1:\d+\/finetune-lab\.js"><\/script>\n<finetune-lab model="mlp" lr="0\.01" hide="optimisation,your-images" lock="1" text="0" height="640" loading="lazy"><\/finetune-lab>/);
  assert.match(await byTestId(page, 'share-link').inputValue(), /\/index\.html#model=mlp&lr=0\.01&hide=optimisation%2Cyour-images&lock=1&text=0$/);
  // The preview is that embed.
  const preview = page.frameLocator('[data-testid="embed-preview"]');
  await preview.locator('body[data-state="idle"]').waitFor({ timeout: 30_000 });
  await page.waitForFunction(() => /text=0/.test(document.querySelector('[data-testid="embed-preview"]').src));
  await preview.locator('body.no-text').waitFor();
  assert.equal(await preview.locator('[data-testid="lr"]').isVisible(), false);
  assert.equal(await preview.locator('[data-testid="model"]').inputValue(), 'mlp');
  assert.equal(await preview.locator('[data-testid="model"]').isDisabled(), true);
  assert.deepEqual(lab.consoleErrors, []);
});
