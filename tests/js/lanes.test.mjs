// Which lane trains which run of a list (www/lanes.js): runs start on lane
// i mod W, a lane left with nothing takes the least advanced run of the
// busiest lane whose state is at hand, and a busy helper is drained first.
// The real workers and the bits a moved run keeps are the page test's
// (tests/e2e/parallel.test.mjs).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lanes } from '../../www/lanes.js';

const stateOf = (index) => ({ snapshot: new Uint8Array([index]), busyMs: 10 * index });
// The runs still training (progress below 1) and how far each is.
const rebalance = (lanes, progress) =>
  lanes.rebalance(
    progress.map((_, i) => i).filter((i) => progress[i] < 1),
    (i) => progress[i],
    stateOf,
  );

test('runs start on lane i mod W, and a fair split moves nothing', () => {
  const lanes = new Lanes(2, 4);
  assert.deepEqual([0, 1, 2, 3].map((i) => lanes.laneOf(i)), [0, 1, 0, 1]);
  rebalance(lanes, [0.5, 0.4, 0.5, 0.4]);
  assert.deepEqual(lanes.owner, [0, 1, 0, 1]);
});

test('an idle helper lane takes lane 0’s least advanced run, with its resume point', () => {
  const lanes = new Lanes(2, 3);
  // Run 1 (lane 1's only run) is done; lane 0 still has runs 0 and 2.
  rebalance(lanes, [0.6, 1, 0.4]);
  assert.deepEqual(lanes.owner, [0, 1, 1]);
  assert.deepEqual(lanes.statesFor([2]), { 2: stateOf(2) });
  assert.deepEqual(lanes.statesFor([2]), {}, 'a resume point is handed over once');
});

test('lane 0 takes a settled helper’s run from this worker’s mirror, with nothing to send', () => {
  const lanes = new Lanes(2, 4);
  rebalance(lanes, [1, 0.3, 1, 0.2]);
  assert.deepEqual(lanes.owner, [0, 1, 0, 0]);
  assert.deepEqual(lanes.statesFor([3]), {});
});

test('a helper with chunks under way is drained before a run leaves it', () => {
  const lanes = new Lanes(2, 4);
  lanes.inFlight.set(1, new Set([new Promise(() => {})]));
  rebalance(lanes, [1, 0.3, 1, 0.2]);
  assert.deepEqual(lanes.owner, [0, 1, 0, 1], 'its mirror is a chunk behind: nothing moves yet');
  assert.equal(lanes.drain, true, 'no more chunks are asked of it');
  lanes.inFlight.get(1).clear();
  lanes.reports.push({ run: 3 });
  rebalance(lanes, [1, 0.3, 1, 0.2]);
  assert.deepEqual(lanes.owner, [0, 1, 0, 1], 'a report not yet applied keeps it waiting');
  lanes.reports.length = 0;
  rebalance(lanes, [1, 0.3, 1, 0.2]);
  assert.deepEqual(lanes.owner, [0, 1, 0, 0]);
  assert.equal(lanes.drain, false);
});

test('a lane with one run left keeps it: a run is never split', () => {
  const lanes = new Lanes(3, 4);
  rebalance(lanes, [0.5, 1, 1, 0.1]);
  // Lanes 1 and 2 are idle; lane 0 has runs 0 and 3: only one of them moves, to lane 1.
  assert.deepEqual(lanes.owner, [0, 1, 2, 1]);
});
