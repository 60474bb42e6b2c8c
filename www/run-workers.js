// Which workers train the page's worker's run list, and how: one run on W
// workers is data-parallel (www/shard-group.js: each step's batch split over
// W shards); a list of several runs goes on separate workers
// (www/lanes.js: each run on one lane at a time, lane 0 being the page's worker);
// W = 1 is the page's worker alone, exactly as before. The page's worker
// (worker.js) asks this object to tick, step or change a run, and never
// needs to know which of the three it is.

import { ShardGroup, startHelpers } from './shard-group.js';
import { Lanes } from './lanes.js';

// Helpers no run list uses are kept this long before they are terminated:
// switching between one worker and several, to compare them, then does not
// pay every helper's start again (its wasm compile and its decoding of the
// data: the first list on 2 workers after one on 1 took 0.1–0.3 s longer in
// make bench), and a page left on one worker still gives their memory back.
const IDLE_HELPERS_MS = 60_000;

export class RunWorkers {
  constructor() {
    this.group = null; // ShardGroup: one run, sharded
    this.lanes = null; // Lanes: several runs, spread
    // The helper workers, kept from one run list to the next (a sweep
    // configures one list per K): starting one costs its wasm compile and
    // its decoding of the data, a few hundred ms.
    this.pool = [];
    this.retiring = null; // the timer that terminates idle helpers
  }

  // Helpers 1 … count, started where the pool has too few or lost one.
  helpers(count) {
    clearTimeout(this.retiring);
    if (this.pool.some((h) => h.lost)) this.terminate();
    if (this.pool.length < count) this.pool.push(...startHelpers(count - this.pool.length, this.pool.length + 1));
    return this.pool.slice(0, count);
  }

  // Helpers for the next run list on `workers`, started now, each loading
  // the wasm module `build` and decoding `datasets` ([{name, key, bytes}]),
  // so that pressing Train does not wait for them; 1 lets the idle ones go.
  // Only adds helpers: replacing a lost one is the next list's business
  // (the list using it may still be reporting the loss).
  warm(workers, build, datasets) {
    if (workers <= 1) return this.retire();
    clearTimeout(this.retiring);
    const fresh = startHelpers(Math.max(0, workers - 1 - this.pool.length), this.pool.length + 1);
    this.pool.push(...fresh);
    // A helper that cannot load is lost, and the next list starts another.
    for (const h of fresh) h.request({ type: 'load', build, datasets }).catch((err) => h.fail(err));
  }

  // Terminates the helpers after IDLE_HELPERS_MS unless a list uses them by then.
  retire() {
    clearTimeout(this.retiring);
    this.retiring = setTimeout(() => {
      if (!this.group && !this.lanes) this.terminate();
    }, IDLE_HELPERS_MS);
  }

  terminate() {
    clearTimeout(this.retiring);
    this.stop();
    for (const h of this.pool) h.worker.terminate();
    this.pool = [];
  }

  // `sources`: the run list as helpers build it ({spec, dataset: {name,
  // key, bytes}, baseBytes}; empty for one worker); `building`: a Promise of this worker's own
  // runs of it ({index, spec, trainer, baseBytes, busyMs, reported}), which
  // helpers running runs in parallel build their copies alongside (a run's
  // build can take a few hundred ms: a shifted dataset, a base model).
  // Resolves to what the page is told, {workers, mode, transport} (and
  // `problem` when helpers could not start), once both are built; rejects
  // with `building`'s error.
  async start(workers, sources, building, build) {
    this.stop();
    if (workers <= 1 || sources.length === 1) {
      const runs = await building;
      if (workers <= 1) {
        this.retire(); // idle helpers would only hold memory, once the user has settled on 1
        return { workers: 1, mode: 'one worker', transport: 'none' };
      }
      return this.fallBack(workers, runs, async () => {
        this.group = await ShardGroup.start({ count: workers, build, runs: [{ ...sources[0], trainer: runs[0].trainer }], helpers: this.helpers(workers - 1) });
        return { workers, mode: 'data-parallel', transport: this.group.transport };
      });
    }
    const count = Math.min(workers, sources.length);
    const lanes = Lanes.start({ count, build, runs: sources, helpers: this.helpers(count - 1) });
    lanes.catch(() => {}); // a failure is handled once this worker's runs are built (fallBack)
    let runs;
    try {
      runs = await building;
    } catch (err) {
      lanes.then((l) => l.stop(), () => {});
      throw err;
    }
    return this.fallBack(workers, runs, async () => {
      this.lanes = await lanes;
      return { workers: count, mode: 'runs in parallel', transport: 'messages' };
    });
  }

  // Helpers that could not start leave the runs to this worker alone.
  async fallBack(workers, runs, starting) {
    try {
      return await starting();
    } catch (err) {
      this.terminate();
      for (const run of runs) run.trainer.setShard(0, 1);
      return { workers: 1, mode: 'one worker', transport: 'none', problem: `${workers} workers could not start (${err.message}); training on one` };
    }
  }

  // True for a run another worker trains (its trainer here is a mirror).
  isRemote(run) {
    return !!this.lanes && this.lanes.isRemote(run.index);
  }

  // One tick of a run trained here: on every shard when sharded.
  tick(run) {
    return this.group ? this.group.tick(run.index) : run.trainer.tick();
  }

  // Starts chunks for the remote runs among `active` (lanes only), after
  // giving any lane left idle a run from a busier one.
  dispatch(active) {
    if (!this.lanes) return;
    const byIndex = new Map(active.map((run) => [run.index, run]));
    const progressOf = (index) => {
      const { step, total_steps: total } = byIndex.get(index).trainer.status();
      return step / Math.max(total, 1);
    };
    // A run leaving this worker: the records its copy here made and has not
    // posted yet go with its others from another lane (`run.reported`), not
    // in the resume point, which the new lane would report again.
    const handOver = (index) => {
      const run = byIndex.get(index);
      run.reported.windows.push(...run.trainer.takeWindows());
      run.reported.evals.push(...run.trainer.takeEvals());
      run.reported.health.push(...run.trainer.takeHealth());
      return { snapshot: run.trainer.snapshot(), busyMs: run.busyMs };
    };
    this.lanes.rebalance([...byIndex.keys()], progressOf, handOver);
    this.lanes.dispatch(active.filter((r) => this.isRemote(r)).map((r) => r.index));
  }

  takeReports() {
    return this.lanes ? this.lanes.takeReports() : [];
  }

  // Resolves when a remote chunk reports; `settle`: when all have.
  next() {
    return this.lanes ? this.lanes.next() : Promise.resolve();
  }

  settle() {
    return this.lanes ? this.lanes.settle() : Promise.resolve();
  }

  // A Step: one training step and the evaluation it starts. A remote run's
  // is its lane's report (for the caller to apply); null otherwise.
  async step(run) {
    if (this.isRemote(run)) return this.lanes.step(run.index);
    if (!this.group) {
      run.trainer.stepOnce();
      return null;
    }
    for (;;) {
      const result = await this.tick(run);
      if (result !== 0) break;
    }
    while (run.trainer.isEvaluating()) await this.tick(run);
    return null;
  }

  // A change the page's worker made to its own trainer, made on the other copies too.
  async call(run, method, args) {
    if (this.group) await this.group.call(run.index, method, args);
    if (this.lanes) await this.lanes.call(run.index, method, args);
  }

  // After the page's worker restored its trainer from a resume point.
  async restored(run, bytes, busyMs) {
    if (this.group) {
      // The resume point's randomness is shard 0's: this worker is shard 0.
      run.trainer.setShard(0, this.group.count);
      await this.group.call(run.index, 'restore', [bytes]);
    }
    if (this.lanes) await this.lanes.call(run.index, 'restore', [bytes, busyMs]);
  }

  stop() {
    if (this.group) this.group.stop();
    if (this.lanes) this.lanes.stop();
    this.group = null;
    this.lanes = null;
  }
}
