// Several runs at the same time on separate workers ("lanes"): in a list of
// R runs on W workers, run i trains on lane i mod W; lane 0 is the page's
// worker itself, the others are helper workers (www/shard-worker.js in lane
// mode), each training its runs whole — no exchange per step — in chunks of
// CHUNK_MS. After each chunk a lane reports what the page's progress needs
// (training points, evaluations, layer health, images and time) and the
// run's resume point, which the page's worker restores into its own copy of
// the run: that copy (a mirror, at most one chunk behind) answers every
// question about the run (status, predictions, filters, checkpoints) and
// gives the resume points the page keeps.
//
// Reports are queued, never applied from a message event: the page's worker
// applies them in its own turn (`takeReports`), so they never race a handler.

import { startHelpers } from './shard-group.js';

const CHUNK_MS = 100;

export class Lanes {
  // `runs`: [{spec, dataset: {name, key, bytes}, baseBytes}] in list order;
  // `helpers`: Helper workers 1 … count − 1 (kept by the caller between run lists).
  static async start({ count, build, runs, helpers = null }) {
    const lanes = new Lanes(count);
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

  constructor(count) {
    this.count = count;
    this.helpers = [];
    this.inFlight = new Map(); // lane → Promise of its chunk
    this.reports = [];
    this.failure = null;
  }

  laneOf(index) {
    return index % this.count;
  }

  isRemote(index) {
    return this.laneOf(index) !== 0;
  }

  helperOf(index) {
    return this.helpers[this.laneOf(index) - 1];
  }

  // Starts a chunk on every lane that has one of `indices` (active remote
  // runs) and no chunk under way. A lane that fails fails the next turn.
  dispatch(indices) {
    if (this.failure) throw this.failure;
    for (const helper of this.helpers) {
      const mine = indices.filter((i) => this.laneOf(i) === helper.index);
      if (!mine.length || this.inFlight.has(helper.index)) continue;
      const chunk = helper
        .request({ type: 'chunk', runs: mine, ms: CHUNK_MS })
        .then((reply) => this.reports.push(...reply.reports))
        .catch((err) => (this.failure = this.failure || err))
        .finally(() => this.inFlight.delete(helper.index));
      this.inFlight.set(helper.index, chunk);
    }
  }

  // Resolves when some chunk under way has reported (at once if none is).
  next() {
    return this.inFlight.size ? Promise.race(this.inFlight.values()) : Promise.resolve();
  }

  // Resolves when every chunk under way has reported.
  settle() {
    return Promise.all(this.inFlight.values());
  }

  takeReports() {
    if (this.failure) throw this.failure;
    return this.reports.splice(0);
  }

  // One training step (and any evaluation it starts) of a remote run: its report.
  async step(index) {
    const reply = await this.helperOf(index).request({ type: 'stepOnce', run: index });
    return reply.reports[0];
  }

  // The same change on the lane's copy of run `index` (the page's worker changes its mirror).
  async call(index, method, args) {
    if (this.isRemote(index)) await this.helperOf(index).request({ type: 'call', run: index, method, args });
  }

  stop() {
    if (this.owned) for (const h of this.helpers) h.worker.terminate();
    this.helpers = [];
  }
}
