// Data-parallel training in the real page (www/shard-group.js): a run on 2
// workers trains to the accuracy of 1, gives the same numbers on shared
// memory (cross-origin isolated) as on messages, and the same numbers for
// the same seed twice; a shard worker lost mid-run is reported and the page
// resumes the run in fresh workers. Speed is `make bench`'s to measure.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labFor, byTestId, nextFrames, trainUntilDone } from './browser.mjs';

const text = (page, id) => byTestId(page, id).textContent();

// LeNet-5 for one epoch with dropout (each shard draws its own masks) on `workers` workers.
async function trainOnce(page, workers) {
  await byTestId(page, 'model').selectOption('lenet5');
  await byTestId(page, 'epochs').fill('1');
  await byTestId(page, 'dropout').fill('0.3');
  await byTestId(page, 'workers').selectOption(String(workers));
  assert.equal(await trainUntilDone(page), 'done');
  return { val: Number(await text(page, 'val-acc')), test: await text(page, 'test-acc'), info: await text(page, 'run-info') };
}

test('a run on 2 workers trains like one on 1, with the same numbers on shared memory and on messages and for the same seed twice', async (t) => {
  const results = {};
  for (const isolate of [true, false]) {
    const lab = await labFor(t, { isolate });
    const { page } = lab;
    assert.equal(await page.evaluate(() => self.crossOriginIsolated), isolate);
    // Without isolation the default is 1 worker (messages measured slower).
    if (!isolate) assert.equal(await byTestId(page, 'workers').inputValue(), '1');
    const one = await trainOnce(page, 1);
    const two = await trainOnce(page, 2);
    assert.match(two.info, new RegExp(`on 2 workers \\(${isolate ? 'shared memory' : 'messages'}\\)`));
    assert.doesNotMatch(one.info, /workers/);
    assert.ok(one.val > 0.85 && two.val > 0.85, `validation accuracy ${one.val} on 1 worker, ${two.val} on 2`);
    assert.ok(Math.abs(one.val - two.val) < 0.03, `the same band: ${one.val} on 1 worker, ${two.val} on 2`);
    const again = await trainOnce(page, 2);
    assert.deepEqual([again.val, again.test], [two.val, two.test], 'the same seed on 2 workers gives the same run');
    results[isolate ? 'shared' : 'messages'] = two;
    assert.deepEqual(lab.consoleErrors, []);
    await lab.close();
  }
  assert.deepEqual([results.shared.val, results.shared.test], [results.messages.val, results.messages.test], 'both transports give the same bits');
});

test('a shard worker lost mid-run is reported, and the run resumes from its last resume point in new workers', async (t) => {
  const lab = await labFor(t, { isolate: true });
  const { page } = lab;
  await byTestId(page, 'model').selectOption('mlp');
  await byTestId(page, 'epochs').fill('200');
  await byTestId(page, 'workers').selectOption('2');
  await byTestId(page, 'train').click();
  await page.waitForFunction(() => Number(document.body.dataset.resumeStep) > 0, null, { timeout: 60_000 });
  // Mid-run a shard worker never yields to its event loop, so it is closed
  // while paused; the next tick then waits for it in vain.
  await byTestId(page, 'pause').click();
  await page.waitForFunction(() => document.body.dataset.state === 'paused');
  const shard = page.workers().find((w) => /shard-worker\.js/.test(w.url()));
  assert.ok(shard, 'the shard worker is one of the page’s workers');
  await shard.evaluate(() => self.close()).catch(() => {});
  await byTestId(page, 'train').click();
  await page.waitForFunction(() => /was replaced/.test(document.querySelector('[data-testid="status"]').textContent), null, { timeout: 40_000 });
  assert.match(await text(page, 'status'), /The training worker stopped .*was replaced/);
  assert.equal(await page.evaluate(() => document.body.dataset.state), 'ready');
  // Train goes on, on 2 workers again.
  await byTestId(page, 'train').click();
  await page.waitForFunction(() => /on 2 workers/.test(document.querySelector('[data-testid="run-info"]').textContent));
  await page.waitForFunction(() => document.body.dataset.state === 'training');
  await byTestId(page, 'pause').click();
});

// Three runs on two workers: the worker whose one run ends first takes over
// one of the other's, from its resume point, for the rest of the run.
test('an experiment’s runs train side by side on 2 workers, with the numbers they have on 1', async (t) => {
  const lab = await labFor(t, { isolate: false });
  const { page } = lab;
  const finals = async (workers) => {
    await byTestId(page, 'experiment').selectOption('forgetting');
    await byTestId(page, 'workers').selectOption(String(workers));
    assert.equal(await trainUntilDone(page), 'done');
    await nextFrames(page); // the last points are drawn
    return {
      info: await text(page, 'run-info'),
      numbers: await page.evaluate(() => [...document.querySelectorAll('[data-testid="run-val-acc"], [data-testid="run-test-acc"]')].map((e) => e.textContent)),
      // Every training point and evaluation once, wherever it was made.
      points: await byTestId(page, 'acc-chart').getAttribute('data-points'),
    };
  };
  const one = await finals(1);
  const two = await finals(2);
  assert.match(two.info, /the runs train side by side on 2 workers/);
  assert.equal(one.numbers.length, 6, 'validation and test accuracy of the three runs');
  assert.deepEqual(two.numbers, one.numbers, 'a run continues bit for bit wherever it trains');
  assert.ok(Number(one.points) > 0);
  assert.equal(two.points, one.points, 'no point is lost or drawn twice when a run moves');
  assert.deepEqual(lab.consoleErrors, []);
});

// Choosing 2 workers starts the helper at once, and it loads the core before
// any Train; a list on 1 worker in between leaves it for the next list on 2
// (www/run-workers.js `warm`, `retire`), so that list does not wait for a
// new one's wasm compile and decoding of the data.
test('the helper worker starts when 2 workers are chosen and stays through a list on 1 for the next on 2', async (t) => {
  const lab = await labFor(t, { isolate: true });
  const { page } = lab;
  const helpers = [];
  const closed = [];
  page.on('worker', (w) => {
    if (!/shard-worker\.js/.test(w.url())) return;
    helpers.push(w);
    w.on('close', () => closed.push(w));
  });
  await byTestId(page, 'experiment').selectOption('optimizers');
  await byTestId(page, 'workers').selectOption('2');
  const deadline = Date.now() + 20_000;
  const loadedCore = () => helpers[0].evaluate(() => performance.getEntriesByType('resource').some((e) => e.name.endsWith('.wasm')));
  while (!(helpers.length && (await loadedCore()))) {
    assert.ok(Date.now() < deadline, `the helper loads the core before Train (helpers: ${helpers.length})`);
    await page.waitForTimeout(100);
  }
  assert.equal(await page.evaluate(() => document.body.dataset.state), 'idle', 'nothing was trained yet');
  for (const workers of [2, 1, 2]) {
    await byTestId(page, 'workers').selectOption(String(workers));
    assert.equal(await trainUntilDone(page), 'done');
    const info = await text(page, 'run-info');
    if (workers === 2) assert.match(info, /the runs train side by side on 2 workers/);
    else assert.doesNotMatch(info, /workers/);
  }
  assert.equal(helpers.length, 1, 'one helper served both lists on 2 workers');
  assert.deepEqual(closed, [], 'the list on 1 worker left it running');
  assert.deepEqual(lab.consoleErrors, []);
});
