// A helper of the page's worker: W − 1 of them train a run list with it.
// It holds its own wasm instance and its own copies of the runs, and answers
// the page's worker only. Two modes:
//
// - shard (www/shard-group.js; src/train/shard.rs is the math): a copy of
//   every run of the list as shard `index` of `count`, each tick's part of
//   the batch computed here and the sum of all parts applied;
// - lane (www/lanes.js): the runs `only` names, whole, trained here in
//   chunks, each chunk reported with the run's resume point; a run handed
//   over from another lane later (`states`) is built when it first comes.
//
//   load {build, datasets: [{name, key, bytes}]}  the wasm module and those datasets,
//                      ahead of a build (run-workers.js `warm`) → called
//   build {index, count, lane?, only?, runs: [{spec, dataset: {name, key, bytes}, baseBytes}], build, shared?}
//                      → built | failed {message}
//   tick {run}         → contribution {kind, values}   (shards without shared memory)
//   apply {run, values}  every shard's contribution, end to end: finishes the tick
//   chunk {runs, ms, states?}  → chunked {reports}      (lanes: train those runs for ms)
//   stepOnce {run, states?}    → chunked {reports: [one]} (lanes: one step and its evaluation)
//   call {run, method, args, states?}  setFrozen / setLayerLr / restore on one run → called
// `states` ({run: {snapshot, busyMs}}, lanes): runs this lane takes over,
// continued from those resume points before anything else.
//
// With `shared` ({control, data}: SharedArrayBuffers, where the page is
// cross-origin isolated) shard ticks come through Atomics instead of
// messages: see the layout in shard-layout.js.

import { makeTrainer } from './run-builder.js';
import { trainFor } from './tick-loop.js';
import { CONTROL, waitAtLeast } from './shard-layout.js';

const IDLE_WAIT_MS = 50;

let wasm = null;
let loading = null; // Promise of the wasm module: a load and a build may both wait for it
let runs = [];
let specs = []; // the run list's specs, for runs a lane builds when they are handed over
let decoded = new Map(); // dataset key → DatasetHandle, the datasets the current runs use
let shard = null; // {index, count}
let shared = null; // {control: Int32Array, data: Float32Array, slot}

const reply = (id, type, payload = {}, transfer = []) => self.postMessage({ id, type, ...payload }, transfer);
const isDiverged = (err) => err && err.name === 'DivergedError';

// Every shard of a run diverges at the same step (the sum tells them all);
// the coordinator reports it, so a shard's own DivergedError is expected.
// `apply(trainer)` hands the trainer every shard's contribution.
function applyAll(run, apply) {
  try {
    apply(run.trainer);
  } catch (err) {
    if (!isDiverged(err)) throw err;
  }
}

function loadWasm(build) {
  loading = loading || import(build).then(async (module) => {
    await module.default();
    wasm = module;
  });
  loading.catch(() => (loading = null)); // the next load or build tries again
  return loading;
}

function decode({ name, key, bytes }) {
  if (!decoded.has(key)) decoded.set(key, wasm.DatasetHandle.fromBytes(name, bytes));
  return decoded.get(key);
}

const handlers = {
  async load({ build, datasets = [] }) {
    await loadWasm(build);
    for (const dataset of datasets) decode(dataset);
    return {};
  },
  async build({ index, count, lane = false, only = [], runs: list, build, shared: buffers }) {
    await loadWasm(build);
    for (const run of runs) if (run) run.trainer.free();
    runs = [];
    specs = list;
    shard = lane ? null : { index, count };
    const keys = new Set(list.map((r) => r.dataset.key));
    for (const [key, handle] of decoded) {
      if (keys.has(key)) continue;
      handle.free();
      decoded.delete(key);
    }
    // One by one, so a build that fails part-way leaves what it built to be freed by the next.
    for (const i of list.keys()) runs.push(lane && !only.includes(i) ? null : buildRun(i, lane));
    shared = buffers ? { control: new Int32Array(buffers.control), data: new Float32Array(buffers.data), slot: buffers.slot } : null;
    if (shared) serveShared();
    return {};
  },
  tick({ run }) {
    const { trainer } = runs[run];
    const kind = trainer.shardTick();
    const values = kind === -1 ? new Float32Array(0) : new Float32Array(trainer.contribution());
    return { kind, values, transfer: [values.buffer] };
  },
  apply({ run, values }) {
    applyAll(runs[run], (trainer) => trainer.applyShards(values, shard.count));
    return null; // no reply: the next tick follows on the same port, in order
  },
  // Lanes: each run of `indices` still training gets an equal part of `ms`.
  async chunk({ runs: indices, ms }) {
    const active = indices.filter((i) => !runs[i].done);
    const slice = ms / Math.max(active.length, 1);
    const reports = [];
    for (const i of active) {
      const run = runs[i];
      const tally = { images: 0, trainMs: 0 };
      let error = null;
      try {
        await trainFor(run, () => run.trainer.tick(), slice, tally);
      } catch (err) {
        if (err instanceof WebAssembly.RuntimeError) throw err;
        error = { name: err.name, message: err.message };
        run.done = true;
      }
      reports.push(report(i, tally.images, tally.trainMs, error));
    }
    return { reports, transfer: reports.map((r) => r.snapshot.buffer) };
  },
  stepOnce({ run: i }) {
    const run = runs[i];
    const t = performance.now();
    let error = null;
    let images = 0;
    try {
      images = run.trainer.stepOnce();
    } catch (err) {
      if (err instanceof WebAssembly.RuntimeError) throw err;
      error = { name: err.name, message: err.message };
    }
    run.busyMs += performance.now() - t;
    run.done = run.done || !!error || run.trainer.status().done;
    const reports = [report(i, images, performance.now() - t, error)];
    return { reports, transfer: [reports[0].snapshot.buffer] };
  },
  call({ run: i, method, args }) {
    const run = runs[i];
    // restore takes the resume point and, for a lane, the run's busy time so far.
    if (method === 'restore') {
      run.trainer.restore(args[0]);
      run.busyMs = Number(args[1]) || 0;
      run.done = run.trainer.status().done;
      run.test = null; // of weights the run no longer has
      // A restored trainer has the resume point's streams, which are shard 0's.
      if (shard) run.trainer.setShard(shard.index, shard.count);
    } else {
      run.trainer[method](...args);
    }
    return {};
  },
};

// Run `i` of the list as this worker trains it. Each dataset is decoded
// once (its key changes when the data does) and kept for the next list.
function buildRun(i, lane) {
  const { spec, dataset, baseBytes } = specs[i];
  const { trainer } = makeTrainer(wasm, decode(dataset), spec, baseBytes, { forgetting: lane });
  if (!lane) trainer.setShard(shard.index, shard.count);
  return { trainer, busyMs: 0, done: false };
}

// Runs another lane hands this one (lanes.js `rebalance`): built the first
// time, then continued from the resume point each arrives with.
function takeOver(states) {
  for (const [key, { snapshot, busyMs }] of Object.entries(states)) {
    const i = Number(key);
    if (!specs[i]) throw new Error(`run ${key} is not in this run list`);
    if (!runs[i]) runs[i] = buildRun(i, true);
    runs[i].trainer.restore(snapshot);
    runs[i].busyMs = Number(busyMs) || 0;
    runs[i].done = runs[i].trainer.status().done;
    runs[i].test = null; // measured again if the run completes here
  }
}

// What a lane's run did in a chunk: its records (taken before the resume
// point, so the page's mirror restored from it holds none twice).
function report(index, images, trainMs, error) {
  const run = runs[index];
  const windows = run.trainer.takeWindows();
  const evals = run.trainer.takeEvals();
  const health = run.trainer.takeHealth();
  // `test`: measured when the run completed here (tick-loop.js), else null.
  return { run: index, windows, evals, health, images, trainMs, busyMs: run.busyMs, done: run.done, test: run.test || null, error, snapshot: run.trainer.snapshot() };
}

// Ticks through shared memory: wait for the coordinator's next tick, write
// this shard's contribution, wait until every shard's has arrived, then sum
// them all and apply, as every shard does.
async function serveShared() {
  const mine = shared;
  const { control, data, slot } = mine;
  let tick = Atomics.load(control, CONTROL.tick);
  while (shared === mine) {
    // Every IDLE_WAIT_MS without a tick the thread lets messages in (calls,
    // a rebuild); mid-run the next tick comes within microseconds.
    if (!waitAtLeast(control, CONTROL.tick, tick + 1, IDLE_WAIT_MS)) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      continue;
    }
    if (shared !== mine || Atomics.load(control, CONTROL.stop)) return;
    tick += 1;
    const half = (tick % 2) * shard.count * slot;
    const run = runs[Atomics.load(control, CONTROL.run)];
    let kind;
    try {
      kind = run.trainer.shardTick();
      if (kind !== -1) run.trainer.contributionInto(data, half, shard.index);
    } catch (err) {
      kind = -1;
      Atomics.store(control, CONTROL.failed, shard.index + 1);
      self.postMessage({ type: 'failed', message: `${err.name}: ${err.message}` });
    }
    Atomics.add(control, CONTROL.arrived, 1);
    Atomics.notify(control, CONTROL.arrived);
    if (!waitAtLeast(control, CONTROL.arrived, shard.count * tick, 60_000)) return; // the coordinator is gone
    if (kind === -1 || Atomics.load(control, CONTROL.failed)) continue;
    applyAll(run, (trainer) => trainer.applyShardsShared(data, half, shard.count));
  }
}

self.onmessage = async ({ data: msg }) => {
  try {
    if (msg.states) takeOver(msg.states);
    const result = await handlers[msg.type](msg);
    if (result === null) return;
    const { transfer = [], ...payload } = result;
    const replies = { tick: 'contribution', build: 'built', chunk: 'chunked', stepOnce: 'chunked' };
    reply(msg.id, replies[msg.type] || 'called', payload, transfer);
  } catch (err) {
    const trap = err instanceof WebAssembly.RuntimeError;
    reply(msg.id, 'failed', { message: `${trap ? 'the core trapped' : err.name}: ${err.message}`, code: trap ? 'WasmTrap' : err.name });
  }
};
