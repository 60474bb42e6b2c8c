// One run's chunk of training (www/tick-loop.js): images and training time
// are tallied from training ticks only, and a run that completes has its
// held-out test measured there and then, once, with that time in its busy
// time. The trainer here is a script of tick results; the real one is the
// page tests' (tests/e2e/parallel.test.mjs).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainFor } from '../../www/tick-loop.js';

// A trainer whose ticks return `results` in turn (images trained > 0, an
// evaluation tick 0, done −1), and whose test reports how often it ran.
function scripted(results) {
  const trainer = {
    ticks: 0,
    tests: 0,
    tick: () => results[trainer.ticks++],
    evaluateTest: () => ({ acc: 0.9, measured: ++trainer.tests }),
  };
  return { trainer, busyMs: 0, done: false, test: null };
}

test('a run that completes in the chunk is marked done and its test measured once', async () => {
  const run = scripted([64, 0, 64, -1, 64]);
  const tally = { images: 0, trainMs: 0 };
  await trainFor(run, () => run.trainer.tick(), 10_000, tally);
  assert.equal(run.done, true);
  assert.equal(run.trainer.ticks, 4, 'no tick after the one that completed the run');
  assert.equal(tally.images, 128, 'only training ticks count images');
  assert.deepEqual(run.test, { acc: 0.9, measured: 1 });
});

test('a run still training when the time is up has no test yet', async () => {
  const run = scripted(Array(1_000_000).fill(32));
  const tally = { images: 0, trainMs: 0 };
  await trainFor(run, () => run.trainer.tick(), 5, tally);
  assert.equal(run.done, false);
  assert.equal(run.test, null);
  assert.equal(run.trainer.tests, 0);
  assert.equal(tally.images, 32 * run.trainer.ticks);
});

test('a tick that throws leaves what the chunk did tallied', async () => {
  const run = scripted([64, 64]);
  const tally = { images: 0, trainMs: 0 };
  const tick = () => (run.trainer.ticks < 2 ? run.trainer.tick() : Promise.reject(new Error('diverged')));
  await assert.rejects(trainFor(run, tick, 10_000, tally), /diverged/);
  assert.equal(tally.images, 128);
  assert.equal(run.test, null);
});
