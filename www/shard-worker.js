// A shard worker: one of the W − 1 helpers of a data-parallel run list
// (www/shard-group.js drives it; src/train/shard.rs is the math). It holds
// its own wasm instance and its own copy of every run of the list, as shard
// `index` of `count`, and answers the coordinating worker only:
//
//   build {index, count, runs: [{spec, dataset: {name, bytes}, baseBytes}], shared?}
//                      → built | failed {message}
//   tick {run}         → contribution {kind, values}   (transport without shared memory)
//   apply {run, values}  every shard's contribution, end to end: finishes the tick
//   call {run, method, args}  setFrozen / setLayerLr / restore on one run → called
//
// With `shared` ({control, data}: SharedArrayBuffers, where the page is
// cross-origin isolated) ticks come through Atomics instead of messages:
// see the layout in shard-group.js.

import { makeTrainer } from './run-builder.js';
import { CONTROL, waitAtLeast } from './shard-layout.js';

const IDLE_WAIT_MS = 50;

let wasm = null;
let runs = [];
let shard = null; // {index, count}
let shared = null; // {control: Int32Array, data: Float32Array, slot}

const reply = (id, type, payload = {}, transfer = []) => self.postMessage({ id, type, ...payload }, transfer);
const isDiverged = (err) => err && err.name === 'DivergedError';

// Every shard of a run diverges at the same step (the sum tells them all);
// the coordinator reports it, so a shard's own DivergedError is expected.
function applyAll(run, contributions) {
  try {
    run.trainer.applyShards(contributions, shard.count);
  } catch (err) {
    if (!isDiverged(err)) throw err;
  }
}

const handlers = {
  async build({ index, count, runs: specs, build, shared: buffers }) {
    if (!wasm) {
      wasm = await import(build);
      await wasm.default();
    }
    for (const run of runs) run.trainer.free();
    runs = [];
    shard = { index, count };
    for (const { spec, dataset, baseBytes } of specs) {
      const full = wasm.DatasetHandle.fromBytes(dataset.name, dataset.bytes);
      try {
        const { trainer } = makeTrainer(wasm, full, spec, baseBytes);
        trainer.setShard(index, count);
        runs.push({ trainer });
      } finally {
        full.free();
      }
    }
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
    applyAll(runs[run], values);
    return null; // no reply: the next tick follows on the same port, in order
  },
  call({ run, method, args }) {
    const { trainer } = runs[run];
    trainer[method](...args);
    // A restored trainer has the resume point's streams, which are shard 0's.
    if (method === 'restore') trainer.setShard(shard.index, shard.count);
    return {};
  },
};

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
    let length = 0;
    try {
      kind = run.trainer.shardTick();
      if (kind !== -1) length = run.trainer.contributionInto(data, half, shard.index);
    } catch (err) {
      kind = -1;
      Atomics.store(control, CONTROL.failed, shard.index + 1);
      self.postMessage({ type: 'failed', message: `${err.name}: ${err.message}` });
    }
    Atomics.add(control, CONTROL.arrived, 1);
    Atomics.notify(control, CONTROL.arrived);
    if (!waitAtLeast(control, CONTROL.arrived, shard.count * tick, 60_000)) return; // the coordinator is gone
    if (kind === -1 || Atomics.load(control, CONTROL.failed)) continue;
    applyAll(run, data.subarray(half, half + shard.count * length));
  }
}

self.onmessage = async ({ data: msg }) => {
  try {
    const result = await handlers[msg.type](msg);
    if (result === null) return;
    const { transfer = [], ...payload } = result;
    reply(msg.id, msg.type === 'tick' ? 'contribution' : `${msg.type === 'build' ? 'built' : 'called'}`, payload, transfer);
  } catch (err) {
    const trap = err instanceof WebAssembly.RuntimeError;
    reply(msg.id, 'failed', { message: `${trap ? 'the core trapped' : err.name}: ${err.message}`, code: trap ? 'WasmTrap' : err.name });
  }
};
