// Synchronous data parallelism for the page's worker: W − 1 shard workers
// (www/shard-worker.js), each with its own wasm instance — stable Rust cannot
// build threaded wasm — and the coordinating worker as shard 0. Every tick,
// each shard computes its part of the batch (src/train/shard.rs), every
// shard gets every contribution, and each sums them in shard order in the
// core (`applyShards`, or `applyShardsShared` straight from shared memory)
// and makes the same update: the weights stay identical everywhere and a
// run is deterministic for a given W and seed.
//
// Two transports, the same ticks and the same bits:
// - shared memory (the page is cross-origin isolated: `make serve`, or a
//   host sending COOP/COEP): each shard writes its contribution straight
//   into a SharedArrayBuffer, and Atomics start the tick and tell when all
//   have arrived (layout: shard-layout.js); waits last at most a tick;
// - messages (anywhere else): each helper's contribution is transferred to
//   the coordinator, which sends all of them to every helper, in order on
//   one port.

import { CONTROL, CONTROL_WORDS, waitAtLeast } from './shard-layout.js';

// How long a tick may wait for a helper before the helper counts as lost
// (a tick is milliseconds; a wasm trap or a killed worker never answers).
const LOST_MS = 10_000;

export class ShardError extends Error {
  constructor(message, code = 'WorkerLost') {
    super(message);
    this.name = code;
  }
}

// Whether this worker can share memory with its helpers.
export const canShareMemory = () => self.crossOriginIsolated === true && typeof SharedArrayBuffer === 'function' && typeof Atomics.waitAsync === 'function';

// Helper workers first … first + count − 1, fresh.
export const startHelpers = (count, first = 1, url = new URL('./shard-worker.js', import.meta.url)) => Array.from({ length: count }, (_, i) => new Helper(url, first + i));

// A helper worker as the coordinator sees it: requests answered by id, and a
// crash or a failure report that fails every request still open.
export class Helper {
  constructor(url, index) {
    this.index = index;
    this.worker = new Worker(url, { type: 'module' });
    this.pending = new Map(); // id → {resolve, reject}
    this.nextId = 1;
    this.lost = null;
    this.worker.onmessage = ({ data }) => {
      const waiting = data.id !== undefined && this.pending.get(data.id);
      if (!waiting) {
        if (data.type === 'failed') this.fail(new ShardError(`shard ${index}: ${data.message}`, data.code || 'ShardError'));
        return;
      }
      this.pending.delete(data.id);
      if (data.type === 'failed') waiting.reject(new ShardError(`shard ${index}: ${data.message}`, data.code || 'ShardError'));
      else waiting.resolve(data);
    };
    this.worker.onerror = (event) => {
      event.preventDefault();
      this.fail(new ShardError(`training worker ${index + 1} stopped: ${event.message || 'it failed to load or crashed'}`));
    };
  }

  fail(err) {
    this.lost = this.lost || err;
    for (const { reject } of this.pending.values()) reject(this.lost);
    this.pending.clear();
  }

  request(message, transfer = []) {
    if (this.lost) return Promise.reject(this.lost);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  post(message) {
    if (this.lost) throw this.lost;
    this.worker.postMessage(message);
  }
}

export class ShardGroup {
  // `runs`: [{spec, trainer, dataset: {name, bytes}, baseBytes}] — the
  // coordinator's own trainers become shard 0 of `count`; `build` is the URL
  // of the wasm module every shard must load (the same kernels give the same
  // bits).
  // `helpers`: Helper workers 1 … count − 1 to use (kept by the caller
  // between run lists); without them the group starts and owns its own.
  static async start({ count, build, runs, helpers = null }) {
    const group = new ShardGroup(count, runs.map((r) => r.trainer));
    const slot = Math.max(...runs.map((r) => r.trainer.maxContributionLength()));
    let buffers = null;
    if (canShareMemory()) {
      buffers = { control: new SharedArrayBuffer(4 * CONTROL_WORDS), data: new SharedArrayBuffer(4 * 2 * count * slot), slot };
      group.shared = { control: new Int32Array(buffers.control), data: new Float32Array(buffers.data), slot };
    }
    for (const run of runs) run.trainer.setShard(0, count);
    try {
      group.owned = !helpers;
      group.helpers = helpers ? helpers.slice(0, count - 1) : startHelpers(count - 1);
      const specs = runs.map(({ spec, dataset, baseBytes }) => ({ spec, dataset, baseBytes }));
      await Promise.all(group.helpers.map((h) => h.request({ type: 'build', index: h.index, count, runs: specs, build, shared: buffers })));
    } catch (err) {
      group.stop();
      throw err;
    }
    return group;
  }

  constructor(count, trainers) {
    this.count = count;
    this.trainers = trainers;
    this.helpers = [];
    this.shared = null;
  }

  get transport() {
    return this.shared ? 'shared memory' : 'messages';
  }

  // One tick of run `index` on every shard; returns what TrainerHandle.tick would.
  tick(index) {
    const lost = this.helpers.find((h) => h.lost);
    if (lost) throw lost.lost;
    return this.shared ? this.tickShared(index) : this.tickByMessages(index);
  }

  tickShared(index) {
    const { control, data, slot } = this.shared;
    const trainer = this.trainers[index];
    const tick = Atomics.load(control, CONTROL.tick) + 1;
    const half = (tick % 2) * this.count * slot;
    Atomics.store(control, CONTROL.run, index);
    Atomics.store(control, CONTROL.tick, tick);
    Atomics.notify(control, CONTROL.tick);
    // Arrive even when this shard's tick throws: the others wait for it.
    let outcome;
    try {
      const kind = trainer.shardTick();
      if (kind !== -1) trainer.contributionInto(data, half, 0);
      outcome = { kind };
    } catch (err) {
      outcome = { error: err };
      Atomics.store(control, CONTROL.failed, 1); // the helpers must not apply a tick this shard gave nothing to
    }
    Atomics.add(control, CONTROL.arrived, 1);
    Atomics.notify(control, CONTROL.arrived);
    if (!waitAtLeast(control, CONTROL.arrived, this.count * tick, LOST_MS)) {
      throw new ShardError(`a training worker did not answer within ${LOST_MS / 1000} s`);
    }
    if (outcome.error) throw outcome.error;
    const { kind } = outcome;
    const failed = Atomics.load(control, CONTROL.failed);
    if (failed) throw new ShardError(`training worker ${failed} of ${this.count} failed in a tick (its message follows)`, 'ShardError');
    if (kind === -1) return -1;
    return trainer.applyShardsShared(data, half, this.count);
  }

  async tickByMessages(index) {
    const trainer = this.trainers[index];
    const replies = this.helpers.map((h) => h.request({ type: 'tick', run: index }));
    const kind = trainer.shardTick();
    const own = kind === -1 ? null : trainer.contribution();
    const parts = await withDeadline(Promise.all(replies));
    if (kind === -1) return -1;
    const all = new Float32Array(own.length * this.count);
    all.set(own, 0);
    parts.forEach((part, i) => all.set(part.values, (i + 1) * own.length));
    // Every helper gets every contribution and sums them as this worker does.
    for (const h of this.helpers) h.post({ type: 'apply', run: index, values: all });
    return trainer.applyShards(all, this.count);
  }

  // The same change on every helper's copy of run `index` (the coordinator
  // changes its own): answered before the next tick starts.
  async call(index, method, args) {
    await withDeadline(Promise.all(this.helpers.map((h) => h.request({ type: 'call', run: index, method, args }))));
  }

  stop() {
    if (this.shared) {
      Atomics.store(this.shared.control, CONTROL.stop, 1);
      Atomics.notify(this.shared.control, CONTROL.tick);
    }
    if (this.owned) for (const h of this.helpers) h.worker.terminate();
    this.helpers = [];
  }
}

function withDeadline(promise) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new ShardError(`a training worker did not answer within ${LOST_MS / 1000} s`)), LOST_MS);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
