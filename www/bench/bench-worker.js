// Benchmark worker for www/bench/bench.html: times the GEMM kernels of one wasm
// build and its training throughput, measured exactly as the page's worker
// trains (the same TrainerHandle.tick loop; evaluation ticks excluded from
// the time, as in the page's images/s readout). It loads the benchmark's own
// wasm builds (www/bench/pkg*, cargo feature `bench`): the page's have no
// kernel switching, GEMM timing or layer profile.

import { chooseBuild } from '../wasm-build.js';
import { ShardGroup } from '../shard-group.js';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const summary = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), samples: xs.length });

let wasm;
const build = chooseBuild(new URL(self.location.href).searchParams.get('build'), new URL('./', import.meta.url));
const ready = import(build.url).then(async (m) => {
  await m.default();
  wasm = m;
});

function gemm({ kernel, form, m, n, k, windows = 5, windowMs = 150 }) {
  wasm.setKernel(kernel);
  wasm.gemmRepeat(form, m, n, k, 1); // warm-up: compile tiers, scratch buffers
  // Enough repetitions per window to last about windowMs.
  let reps = 1;
  for (;;) {
    const t = performance.now();
    wasm.gemmRepeat(form, m, n, k, reps);
    const ms = performance.now() - t;
    if (ms >= windowMs / 4 || reps > 1e6) {
      reps = Math.max(1, Math.round((reps * windowMs) / Math.max(ms, 0.01)));
      break;
    }
    reps *= 4;
  }
  const gflops = [];
  for (let w = 0; w < windows; w++) {
    const t = performance.now();
    wasm.gemmRepeat(form, m, n, k, reps);
    const s = (performance.now() - t) / 1000;
    gflops.push((2 * m * n * k * reps) / s / 1e9);
  }
  return summary(gflops);
}

// Two kernels of one build on the same product, window by window in turn,
// so a change of machine speed hits both alike: the fair way to compare
// relaxed SIMD's fused multiply-add with plain simd128 on a noisy machine.
function gemmSideBySide({ kernels, form, m, n, k, windows = 9, windowMs = 150 }) {
  for (const kernel of kernels) {
    wasm.setKernel(kernel);
    wasm.gemmRepeat(form, m, n, k, 1);
  }
  wasm.setKernel(kernels[0]);
  const t = performance.now();
  wasm.gemmRepeat(form, m, n, k, 1);
  const reps = Math.max(1, Math.round(windowMs / Math.max(performance.now() - t, 0.01)));
  const gflops = Object.fromEntries(kernels.map((kernel) => [kernel, []]));
  for (let w = 0; w < windows; w++) {
    for (const kernel of kernels) {
      wasm.setKernel(kernel);
      const start = performance.now();
      wasm.gemmRepeat(form, m, n, k, reps);
      gflops[kernel].push((2 * m * n * k * reps) / ((performance.now() - start) / 1000) / 1e9);
    }
  }
  return Object.fromEntries(kernels.map((kernel) => [kernel, summary(gflops[kernel])]));
}

let dataset = null;
let datasetBytes = null;
async function loadDataset() {
  if (!dataset) {
    datasetBytes = new Uint8Array(await (await fetch(new URL('../data/mnist.ftld.gz', import.meta.url))).arrayBuffer());
    dataset = wasm.DatasetHandle.fromBytes('mnist.ftld.gz', datasetBytes);
  }
  return dataset;
}

// A trainer for the timed windows: SGD with momentum, and the longest run the
// core allows, so the windows end long before it does.
const benchConfig = (model, batch, evalsPerEpoch = 1) => ({
  model,
  batch_size: batch,
  optimizer: { kind: 'sgd', momentum: 0.9, nesterov: false },
  lr: 0.01,
  epochs: wasm.catalog().limits.find((l) => l.field === 'epochs').max,
  evals_per_epoch: evalsPerEpoch,
});
async function benchTrainer(model, batch, evalsPerEpoch = 1) {
  return new wasm.TrainerHandle(await loadDataset(), benchConfig(model, batch, evalsPerEpoch));
}

// Trains for `ms` and returns images per second of training time (evaluations not counted).
function timedRun(trainer, ms) {
  let images = 0;
  let trainMs = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    const t = performance.now();
    const r = trainer.tick();
    if (r > 0) {
      images += r;
      trainMs += performance.now() - t;
    }
  }
  return (images * 1000) / trainMs;
}

async function train({ kernel, model, batch, warmupMs = 1500, windows = 5, windowMs = 1500 }) {
  wasm.setKernel(kernel);
  const trainer = await benchTrainer(model, batch);
  timedRun(trainer, warmupMs);
  const rates = [];
  for (let w = 0; w < windows; w++) rates.push(timedRun(trainer, windowMs));
  trainer.free();
  return summary(rates);
}

// One trainer, windows alternating with a switch of the core on and off:
// what it costs a training step. `overflow guard`: the copy of the weights
// before each update, which keeps the last finite weights; `layer health`:
// the probe measured at each of the page's 4 evaluations per epoch.
const SWITCHES = { guard: (on) => wasm.setOverflowGuard(on), health: (on) => wasm.setLayerHealth(on) };
async function sideBySide({ kernel, model, batch, which, warmupMs = 1000, windows = 7, windowMs = 800 }) {
  wasm.setKernel(kernel);
  const trainer = await benchTrainer(model, batch, which === 'health' ? 4 : 1);
  timedRun(trainer, warmupMs);
  const rates = { on: [], off: [] };
  for (let w = 0; w < windows; w++) {
    for (const state of ['on', 'off']) {
      SWITCHES[which](state === 'on');
      rates[state].push(timedRun(trainer, windowMs));
    }
  }
  SWITCHES[which](true);
  trainer.free();
  return { on: summary(rates.on), off: summary(rates.off) };
}

// Layer health timed on its own: windows of training (health off) alternate
// with windows of measurements on the same trainer, and the cost is the
// measurements' time per epoch (one per evaluation point) over the epoch's
// training time. A side-by-side run cannot see a cost this small: its two
// throughputs differ by more than that from window to window.
async function healthCost({ kernel, model, batch, evalsPerEpoch = 4, warmupMs = 1000, windows = 7, windowMs = 800 }) {
  wasm.setKernel(kernel);
  const trainer = await benchTrainer(model, batch, evalsPerEpoch);
  wasm.setLayerHealth(false);
  timedRun(trainer, warmupMs);
  wasm.measureHealth(trainer, 2);
  const trainRates = [];
  const measureMs = [];
  const costs = [];
  const epochImages = wasm.trainSize(trainer);
  for (let w = 0; w < windows; w++) {
    const rate = timedRun(trainer, windowMs);
    let reps = 0;
    const start = performance.now();
    while (performance.now() - start < windowMs / 4) {
      wasm.measureHealth(trainer, 1);
      reps++;
    }
    const ms = (performance.now() - start) / reps;
    trainRates.push(rate);
    measureMs.push(ms);
    costs.push((ms * evalsPerEpoch) / ((epochImages / rate) * 1000));
  }
  wasm.setLayerHealth(true);
  trainer.free();
  return { evalsPerEpoch, epochImages, train: summary(trainRates), measureMs: summary(measureMs), cost: summary(costs) };
}

// Data-parallel training (www/shard-group.js, as the page's worker uses it):
// one run on each worker count, windows alternating between the counts, so a
// change of machine speed hits every count alike. Evaluation ticks are not
// timed, as in the page's readout.
async function trainParallel({ kernel, model, batch, workers, warmupMs = 1000, windows = 7, windowMs = 1500 }) {
  wasm.setKernel(kernel);
  await loadDataset();
  const runs = [];
  for (const count of workers) {
    const trainer = await benchTrainer(model, batch);
    const spec = { name: `w${count}`, config: benchConfig(model, batch) };
    const group = count > 1 ? await ShardGroup.start({ count, build: build.url, runs: [{ spec, trainer, dataset: { name: 'mnist.ftld.gz', key: 'mnist', bytes: datasetBytes }, baseBytes: null }] }) : null;
    runs.push({ count, trainer, group, rates: [] });
  }
  const timed = async (run, ms) => {
    let images = 0;
    let trainMs = 0;
    const start = performance.now();
    while (performance.now() - start < ms) {
      const t = performance.now();
      const r = run.group ? await run.group.tick(0) : run.trainer.tick();
      if (r > 0) {
        images += r;
        trainMs += performance.now() - t;
      }
    }
    return (images * 1000) / trainMs;
  };
  for (const run of runs) await timed(run, warmupMs);
  for (let w = 0; w < windows; w++) for (const run of runs) run.rates.push(await timed(run, windowMs));
  const transport = runs.find((r) => r.group)?.group.transport || 'none';
  for (const run of runs) {
    if (run.group) run.group.stop();
    run.trainer.free();
  }
  return { transport, results: runs.map((r) => ({ workers: r.count, ...summary(r.rates) })) };
}

// Training against the same build's GEMM 256³, windows alternating: the
// training FLOP rate (images/s × the core's FLOPs per training image) as a
// share of what the best kernel does on a large square product.
async function efficiency({ kernel, model, batch, warmupMs = 1000, windows = 5, windowMs = 1000 }) {
  wasm.setKernel(kernel);
  const trainer = await benchTrainer(model, batch);
  const flopsPerImage = wasm.trainingFlopsPerImage(trainer);
  timedRun(trainer, warmupMs);
  const train = [];
  const square = [];
  for (let w = 0; w < windows; w++) {
    train.push((timedRun(trainer, windowMs) * flopsPerImage) / 1e9);
    square.push(gemm({ kernel, form: 'nn', m: 256, n: 256, k: 256, windows: 1, windowMs }).median);
  }
  trainer.free();
  return { flopsPerImage, train: summary(train), gemm: summary(square) };
}

async function profile({ kernel, model, batch, steps = 20 }) {
  wasm.setKernel(kernel);
  return wasm.profileLayers(await loadDataset(), { model, batch_size: batch }, steps);
}

self.onmessage = async ({ data }) => {
  try {
    await ready;
    const tasks = { gemm, gemmSideBySide, train, sideBySide, healthCost, profile, trainParallel, efficiency };
    const result = await tasks[data.task](data);
    self.postMessage({ ok: true, build: build.name, kernels: wasm.availableKernels(), result });
  } catch (err) {
    self.postMessage({ ok: false, error: `${err.name}: ${err.message}` });
  }
};
