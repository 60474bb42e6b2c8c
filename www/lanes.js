// Several runs at the same time on separate workers ("lanes"): in a list of
// R runs on W workers, each run belongs to one lane at a time, at first run
// i to lane i mod W; lane 0 is the page's worker itself, the others are
// helper workers (www/shard-worker.js in lane mode), each training its runs
// whole — no exchange per step — in chunks of CHUNK_MS. After each chunk a
// lane reports what the page's progress needs (training points,
// evaluations, layer health, images and time) and the run's resume point,
// which the page's worker restores into its own copy of the run: that copy
// (a mirror, at most one chunk behind) answers every question about the run
// (status, predictions, filters, checkpoints) and gives the resume points
// the page keeps.
//
// Runs cost unlike amounts (a frozen backbone, a run that diverges early, 3
// runs on 2 lanes), so a lane left with nothing to train takes over the
// least advanced run of a lane that still has several (`rebalance`): the run
// moves with its resume point, and since a resume point continues a run bit
// for bit, the numbers are the ones one worker gives.
//
// Reports are queued, never applied from a message event: the page's worker
// applies them in its own turn (`takeReports`), so they never race a handler.

import { startHelpers } from './shard-group.js';

const CHUNK_MS = 100;
// Chunks asked of a helper ahead: when one ends the next is already in its
// queue, so it never idles while this worker finishes its own turn (up to
// its 25 ms, and its reports to apply) before asking for more.
const DEPTH = 2;

export class Lanes {
  // `runs`: [{spec, dataset: {name, key, bytes}, baseBytes}] in list order;
  // `helpers`: Helper workers 1 … count − 1 (kept by the caller between run lists).
  static async start({ count, build, runs, helpers = null }) {
    const lanes = new Lanes(count, runs.length);
    try {
      lanes.owned = !helpers;
      lanes.helpers = helpers ? helpers.slice(0, count - 1) : startHelpers(count - 1);
      const specs = runs.map(({ spec, dataset, baseBytes }) => ({ spec, dataset, baseBytes }));
      await Promise.all(
        lanes.helpers.map((h) => {
          const only = runs.map((_, i) => i).filter((i) => lanes.laneOf(i) === h.index);
          return h.request({ type: 'build', lane: true, index: h.index, count, only, runs: specs, build });
        }),
      );
    } catch (err) {
      lanes.stop();
      throw err;
    }
    return lanes;
  }

  constructor(count, runCount) {
    this.count = count;
    this.owner = Array.from({ length: runCount }, (_, i) => i % count); // run → its lane
    this.handover = new Map(); // run → {snapshot, busyMs}: what its new lane continues from
    this.helpers = [];
    this.inFlight = new Map(); // lane → Set of Promises of its chunks under way
    this.drain = false; // a lane waits for a busy lane to settle, to take one of its runs
    this.reports = [];
    this.failure = null;
  }

  laneOf(index) {
    return this.owner[index];
  }

  isRemote(index) {
    return this.laneOf(index) !== 0;
  }

  helperOf(index) {
    return this.helpers[this.laneOf(index) - 1];
  }

  // Every lane with no run left to train takes the least advanced run of
  // the lane with the most (at least two) whose state is here — lane 0's
  // own, or a helper's with no chunk under way, whose last report made this
  // worker's mirror current (a busy one is drained: `dispatch`). `active`:
  // the indices of the runs still training; `progressOf(index)`: how far a
  // run is, 0–1 (asked only when a run moves); `stateOf(index)`: the run's
  // {snapshot, busyMs} as this worker has it, for a helper to continue from.
  rebalance(active, progressOf, stateOf) {
    const byLane = Array.from({ length: this.count }, () => []);
    for (const index of active) byLane[this.laneOf(index)].push(index);
    // Every report of a settled lane has been applied: this worker's mirrors of its runs are current.
    const settled = (lane) => lane === 0 || (!this.underWay(lane) && !this.reports.length);
    this.drain = false;
    for (let lane = 0; lane < this.count; lane++) {
      if (byLane[lane].length) continue;
      const busy = byLane.map((runs, d) => ({ d, runs })).filter(({ d, runs }) => d !== lane && runs.length >= 2);
      const donors = busy.filter(({ d }) => settled(d));
      if (!donors.length) {
        this.drain = this.drain || busy.length > 0;
        continue;
      }
      const { runs } = donors.reduce((a, b) => (b.runs.length > a.runs.length ? b : a));
      const progress = runs.map(progressOf);
      const index = runs[progress.indexOf(Math.min(...progress))];
      runs.splice(runs.indexOf(index), 1);
      byLane[lane].push(index);
      this.owner[index] = lane;
      if (lane === 0) this.handover.delete(index);
      else this.handover.set(index, stateOf(index));
    }
  }

  // The resume points a helper must take over before it trains `indices`
  // (sent once, with its next request for them).
  statesFor(indices) {
    const states = {};
    for (const i of indices) {
      if (!this.handover.has(i)) continue;
      states[i] = this.handover.get(i);
      this.handover.delete(i);
    }
    return states;
  }

  underWay(lane) {
    return this.inFlight.has(lane) ? this.inFlight.get(lane).size : 0;
  }

  chunksUnderWay() {
    return [...this.inFlight.values()].flatMap((chunks) => [...chunks]);
  }

  // Keeps DEPTH chunks asked of every lane that has some of `indices`
  // (active remote runs) — none more of a lane with several runs while
  // another lane waits to take one (`drain`). A lane that fails fails the
  // next turn.
  dispatch(indices) {
    if (this.failure) throw this.failure;
    for (const helper of this.helpers) {
      const mine = indices.filter((i) => this.laneOf(i) === helper.index);
      if (!mine.length || (this.drain && mine.length >= 2)) continue;
      if (!this.inFlight.has(helper.index)) this.inFlight.set(helper.index, new Set());
      const chunks = this.inFlight.get(helper.index);
      while (chunks.size < DEPTH) {
        const chunk = helper
          .request({ type: 'chunk', runs: mine, ms: CHUNK_MS, states: this.statesFor(mine) })
          .then((reply) => this.reports.push(...reply.reports))
          .catch((err) => (this.failure = this.failure || err))
          .finally(() => chunks.delete(chunk));
        chunks.add(chunk);
      }
    }
  }

  // Resolves when some chunk under way has reported (at once if none is).
  next() {
    const chunks = this.chunksUnderWay();
    return chunks.length ? Promise.race(chunks) : Promise.resolve();
  }

  // Resolves when every chunk under way has reported.
  settle() {
    return Promise.all(this.chunksUnderWay());
  }

  takeReports() {
    if (this.failure) throw this.failure;
    return this.reports.splice(0);
  }

  // One training step (and any evaluation it starts) of a remote run: its report.
  async step(index) {
    const reply = await this.helperOf(index).request({ type: 'stepOnce', run: index, states: this.statesFor([index]) });
    return reply.reports[0];
  }

  // The same change on the lane's copy of run `index` (the page's worker changes its mirror).
  async call(index, method, args) {
    if (this.isRemote(index)) await this.helperOf(index).request({ type: 'call', run: index, method, args, states: this.statesFor([index]) });
  }

  stop() {
    if (this.owned) for (const h of this.helpers) h.worker.terminate();
    this.helpers = [];
  }
}
