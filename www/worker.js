// The module worker that owns the wasm trainers. A run list of one or more
// runs (e.g. "from scratch" and "fine-tuned", same data and budget) trains in
// chunks of about CHUNK_MS, shared fairly between the runs, yielding between
// chunks so `pause` and `step` get through at once; progress is batched into a
// few messages per second.
//
// So that the page can replace a worker that dies (a wasm trap, out of
// memory, `self.close()`, an endless loop) without losing the run, this one
// sends a heartbeat every HEARTBEAT_MS and, every AUTOSAVE_MS of training and
// whenever training stops, each run's resume point (the core's snapshot),
// right after the progress it matches.
//
// Over 400 lines because every message of the protocol (protocol.js) has its
// small handler here, in one table; the chunked training loop is at the top.

import { message, versionError, HEARTBEAT_MS } from './protocol.js';
import { chooseBuild } from './wasm-build.js';
import { makeTrainer } from './run-builder.js';
import { RunWorkers } from './run-workers.js';
import { trainFor } from './tick-loop.js';

const CHUNK_MS = 25;
const PROGRESS_MS = 250;
const SPEED_WINDOW_MS = 2000;
const AUTOSAVE_MS = 5000;

const datasets = new Map(); // url → Promise<DatasetHandle>
const datasetFiles = new Map(); // url → the file's bytes, for shard workers to decode too
const datasetVersions = new Map(); // url → how many times the user's images under it were replaced
const checkpoints = new Map(); // url → Promise<Uint8Array>
let runs = []; // {name, trainer, done, speed: [{t, images, ms}], busyMs}
let running = false;
let pausedWhileRunning = false; // a pause arrived while training: its handler posts the resume point
let lastPost = 0;
let lastSave = 0;
// Which workers train the runs (one, data-parallel, or runs in parallel: run-workers.js).
const helpers = new RunWorkers();
let parallel = { workers: 1, mode: 'one worker', transport: 'none' };

// One thing at a time touches the trainers: a chunk of training (which, on
// several workers, awaits them between steps) or a message's handler.
let turn = Promise.resolve();
function exclusive(work) {
  const result = turn.then(work);
  turn = result.catch(() => {});
  return result;
}

const post = (type, payload, id, transfer = []) => self.postMessage(message(type, payload, id), transfer);

// A wasm trap (a Rust panic, memory exhausted) leaves the module unusable:
// such an error is `fatal`, and the page replaces this worker. The panic's
// own message (kept by the core's panic hook) says more than "unreachable".
function postError(err, replyTo) {
  if (err instanceof WebAssembly.RuntimeError) {
    const panic = lastPanic ? lastPanic() : null;
    post('error', { code: 'WasmTrap', fatal: true, message: panic ? `the core panicked: ${panic}` : `the core trapped: ${err.message}`, replyTo });
    return;
  }
  const code = (err && err.name) || 'Error';
  // A lost shard worker leaves its copies of the runs behind: like a trap,
  // the page replaces this worker (and with it every shard) and resumes.
  const fatal = code === 'WorkerLost' || code === 'ShardError' ? { fatal: true } : {};
  post('error', { code, message: String((err && err.message) || err), replyTo, ...fatal });
}

// Each run's resume point, sent right after the progress it matches (the
// page marks its charts there). Buffers are transferred, not copied.
function postSnapshot(now) {
  lastSave = now;
  const snapshots = runs.map((run) => ({ name: run.name, bytes: run.trainer.snapshot(), busyMs: run.busyMs, step: run.trainer.status().step }));
  post(
    'snapshot',
    { runs: snapshots },
    undefined,
    snapshots.map((s) => s.bytes.buffer),
  );
}

// A zero-delay yield: MessageChannel tasks are not clamped like nested setTimeout.
const channel = new MessageChannel();
channel.port1.onmessage = () => runChunk();
const yieldThenRun = () => channel.port2.postMessage(null);

function imagesPerSec(run, now) {
  run.speed = run.speed.filter((s) => now - s.t < SPEED_WINDOW_MS);
  const images = run.speed.reduce((a, s) => a + s.images, 0);
  const ms = run.speed.reduce((a, s) => a + s.ms, 0);
  return ms > 0 ? (images * 1000) / ms : 0;
}

function postProgress(now) {
  lastPost = now;
  post('progress', {
    runs: runs.map((run) => {
      // Seconds of this run's own work (training and evaluation) so far, for the
      // "by seconds" x-axis; stamped when posted, so within PROGRESS_MS of the truth.
      const seconds = run.busyMs / 1000;
      return {
        name: run.name,
        // A run another worker trains brings its records in its reports.
        windows: [...run.reported.windows.splice(0), ...run.trainer.takeWindows()].map((w) => ({ ...w, seconds })),
        evals: [...run.reported.evals.splice(0), ...run.trainer.takeEvals()].map((e) => ({ ...e, seconds })),
        health: [...run.reported.health.splice(0), ...run.trainer.takeHealth()],
        status: run.trainer.status(),
        imagesPerSec: imagesPerSec(run, now),
      };
    }),
  });
}

// `id`: the request (a Step) that finished the runs, which `done` answers.
function finish(id) {
  running = false;
  postProgress(performance.now());
  postSnapshot(performance.now());
  // Most runs' tests were measured as they completed (tick-loop.js); a run
  // completed by a single step, or one that stopped, is measured now.
  post('done', { runs: runs.map((run) => ({ name: run.name, status: run.trainer.status(), test: run.test || run.trainer.evaluateTest() })) }, id);
}

const runChunk = () => exclusive(trainChunk);

function fail(err) {
  running = false;
  if (!(err instanceof WebAssembly.RuntimeError)) {
    postProgress(performance.now()); // keep every point measured before the failure
    postSnapshot(performance.now()); // a diverged run keeps its last finite weights
  }
  postError(err);
}

// In a list of runs, one that diverges stops alone (it keeps its last finite
// weights and its curve); the others train on. A single run, or the last one
// still training, stops the list (the error is thrown on).
function stopAlone(run, err) {
  if (err.name !== 'DivergedError' || runs.filter((r) => !r.done).length < 2) throw err;
  run.done = true;
  post('runStopped', { name: run.name, code: err.name, message: err.message, status: run.trainer.status() });
}

// What another worker's chunk of a run did: its records, its speed, and its
// resume point, which makes this worker's copy of the run (a mirror) current.
function applyReport(report) {
  const run = runs[report.run];
  run.reported.windows.push(...report.windows);
  run.reported.evals.push(...report.evals);
  run.reported.health.push(...report.health);
  run.trainer.restore(report.snapshot);
  run.busyMs = report.busyMs;
  run.test = report.test || run.test;
  if (report.images > 0) run.speed.push({ t: performance.now(), images: report.images, ms: report.trainMs });
  // Before `done` is set: stopAlone counts the runs still training, this one among them.
  if (report.error) stopAlone(run, Object.assign(new Error(report.error.message), { name: report.error.name }));
  run.done = report.done;
}

// Every report, even past one that stops the list: the other runs' mirrors
// stay current for the resume points `fail` posts.
function applyReports(reports) {
  let failure = null;
  for (const report of reports) {
    try {
      applyReport(report);
    } catch (err) {
      failure = failure || err;
    }
  }
  if (failure) throw failure;
}

// Waits for the chunks other workers have under way and applies their
// reports: every mirror is current, and nothing under way can undo a change
// made to it now.
async function catchUp() {
  await helpers.settle();
  applyReports(helpers.takeReports());
}

async function trainChunk() {
  if (!running || !runs.length) return;
  try {
    applyReports(helpers.takeReports());
  } catch (err) {
    return fail(err);
  }
  if (runs.every((r) => r.done)) return finish();
  helpers.dispatch(runs.filter((r) => !r.done));
  const active = runs.filter((r) => !r.done && !helpers.isRemote(r));
  // Only other workers' runs left: wait for their next report.
  if (!active.length) await helpers.next();
  const slice = CHUNK_MS / Math.max(active.length, 1);
  try {
    for (const run of active) {
      const tally = { images: 0, trainMs: 0 };
      try {
        await trainFor(run, () => helpers.tick(run), slice, tally);
      } catch (err) {
        // A sharded run's shards all diverge at the same step (the sum tells them all).
        stopAlone(run, err);
      }
      if (tally.images > 0) run.speed.push({ t: performance.now(), images: tally.images, ms: tally.trainMs });
    }
  } catch (err) {
    return fail(err);
  }
  if (runs.every((r) => r.done) && !helpers.lanes) return finish();
  const now = performance.now();
  if (now - lastSave >= AUTOSAVE_MS) {
    postProgress(now);
    postSnapshot(now);
  } else if (now - lastPost >= PROGRESS_MS) postProgress(now);
  yieldThenRun();
}

function cached(map, url, load) {
  if (!map.has(url)) {
    const loading = load(url);
    map.set(url, loading);
    loading.catch(() => map.delete(url)); // a failed load may be retried
  }
  return map.get(url);
}

async function fetchBytes(url, what) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot load ${what} ${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

const loadDataset = (url) =>
  cached(datasets, url, async () => {
    const bytes = await fetchBytes(url, 'dataset');
    datasetFiles.set(url, bytes);
    return DatasetHandle.fromBytes(url, bytes);
  });
const loadCheckpoint = (url) => cached(checkpoints, url, (u) => fetchBytes(u, 'base model'));

// One run of the list: {name, datasetUrl, classes?, config, base?: {url, newHead, sourceClasses?}}.
// With base.sourceClasses the run also measures forgetting of the base's task.
// Trainers keep their own reference to the data, so the class-subset handles
// made here are freed at once (wasm memory never shrinks: leaks add up).
async function buildRun(spec) {
  const full = await loadDataset(spec.datasetUrl);
  const bytes = spec.base ? await loadCheckpoint(spec.base.url) : null;
  const { trainer, info } = makeTrainer(wasmModule, full, spec, bytes);
  const reported = { windows: [], evals: [], health: [] };
  return { name: spec.name, spec, trainer, info, baseUrl: spec.base ? spec.base.url : null, baseBytes: bytes, done: false, speed: [], busyMs: 0, reported };
}

// A dataset file for helper workers to decode: the file as fetched, or
// (the user's images) the core's encoding; with the dataset's own name,
// which a run's resume point is checked against.
// `key` changes whenever the dataset under `url` does, so a helper can keep
// its decoded copy from one run list to the next.
async function datasetFile(url) {
  const handle = await loadDataset(url);
  return { name: handle.info().name, key: `${url}#${datasetVersions.get(url) || 0}`, bytes: datasetFiles.get(url) || handle.toBytes() };
}

// What a configured run is, for the page's status and layers panels.
function describeRun(run) {
  return {
    name: run.name,
    dataset: run.info,
    layers: run.trainer.layers(),
    paramCount: run.trainer.paramCount(),
    status: run.trainer.status(),
  };
}

function namedRuns(name) {
  const targets = runs.filter((r) => name === undefined || r.name === name);
  if (!targets.length) throw Object.assign(new Error(`no run named '${name}'`), { name: 'StateError' });
  return targets;
}

// A replaced dataset (the user changed their images) is freed once no run is
// being built from it: trainers keep their own reference to the data, but a
// build in progress may still be reading the old handle.
let building = 0;
const retired = [];
function freeRetired() {
  if (building === 0) while (retired.length) retired.pop().free();
}
async function whileBuilding(work) {
  building += 1;
  try {
    return await work();
  } finally {
    building -= 1;
    freeRetired();
  }
}

const handlers = {
  // The user's own images ({shape, classes: [{name, files}], pixels}): the
  // core builds the dataset and decides its split.
  addDataset({ url, name, images }, id) {
    const [channels, height, width] = images.shape;
    const handle = DatasetHandle.fromImages(name, channels, height, width, images.classes, images.pixels);
    const old = datasets.get(url);
    datasets.set(url, Promise.resolve(handle));
    datasetVersions.set(url, (datasetVersions.get(url) || 0) + 1);
    if (old) {
      old.then((h) => {
        retired.push(h);
        freeRetired();
      }, () => {});
    }
    post('datasetAdded', { url, dataset: handle.info() }, id);
  },
  // Training images and the same images augmented: the page's live preview.
  preview: ({ datasetUrl, classes, augment, count, seed }, id) =>
    whileBuilding(async () => {
      const full = await loadDataset(datasetUrl);
      const dataset = classes ? full.withClasses(classes) : full;
      try {
        const bytes = dataset.augmentPreview(count, augment, seed);
        const { shape } = dataset.info();
        post('previewed', { shape, bytes }, id);
      } finally {
        if (dataset !== full) dataset.free();
      }
    }),
  // A run's layers before it exists, from the specs alone: no trainer is
  // built and no image is shifted or sampled.
  describe: ({ run: spec }, id) =>
    whileBuilding(async () => {
      const dataset = await loadDataset(spec.datasetUrl);
      const bytes = spec.base ? await loadCheckpoint(spec.base.url) : undefined;
      const classes = spec.classes ? spec.classes.length : dataset.info().classes.length;
      const plan = dataset.describeRun(spec.config, classes, spec.base ? spec.base.url : '', bytes, !!(spec.base && spec.base.newHead));
      post('described', { name: spec.name, layers: plan.layers, paramCount: plan.param_count }, id);
    }),
  // The core's verdict on run configurations: one list of {field, rule, got, message} per config.
  validate({ configs }, id) {
    post('validated', { problems: configs.map((config) => validateConfig(config)) }, id);
  },
  configure: ({ runs: specs, workers = 1 }, id) =>
    whileBuilding(async () => {
      running = false;
      if (!Array.isArray(specs) || !specs.length) throw Object.assign(new Error('configure needs a non-empty run list'), { name: 'ProtocolError' });
      const count = Math.max(1, Math.floor(Number(workers)) || 1);
      // What helper workers build their copies from (the files are loaded once, here).
      const sources = [];
      if (count > 1) for (const spec of specs) sources.push({ spec, dataset: await datasetFile(spec.datasetUrl), baseBytes: spec.base ? await loadCheckpoint(spec.base.url) : null });
      const built = [];
      const building = (async () => {
        try {
          for (const spec of specs) built.push(await buildRun(spec));
        } catch (err) {
          for (const run of built) run.trainer.free();
          throw err; // the previous runs are untouched
        }
        built.forEach((run, index) => (run.index = index));
        return built;
      })();
      // Rejects only with building's error, and building has freed its runs then.
      parallel = await helpers.start(count, sources, building, buildUrl);
      for (const run of runs) run.trainer.free();
      runs = built;
      post('configured', { runs: runs.map(describeRun), parallel }, id);
    }),
  // Helper workers for the next run list on `workers`, started ahead of it
  // with the datasets this worker has loaded (run-workers.js `warm`). No reply.
  async warm({ workers = 1 }) {
    const count = Math.max(1, Math.floor(Number(workers)) || 1);
    // Only a head start: a failure here is met again, and reported, by the next configure.
    try {
      const files = count > 1 ? await Promise.all([...datasetFiles.keys()].map(datasetFile)) : [];
      helpers.warm(count, buildUrl, files);
    } catch {
      // nothing lost: the helpers start with the next list instead
    }
  },
  start(_payload, id) {
    if (!runs.length) throw Object.assign(new Error('no run is configured'), { name: 'StateError' });
    if (running) return;
    running = true;
    lastPost = performance.now();
    lastSave = lastPost;
    post('started', {}, id);
    yieldThenRun();
  },
  async pause(_payload, id) {
    const wasRunning = running || pausedWhileRunning;
    running = false;
    pausedWhileRunning = false;
    // Other workers' chunks under way finish and report first.
    await catchUp();
    if (runs.length) postProgress(performance.now());
    if (runs.length && wasRunning) postSnapshot(performance.now());
    post('paused', { runs: runs.map((run) => ({ name: run.name, status: run.trainer.status() })) }, id);
  },
  // Freezes or unfreezes one layer of the named run (every run if none), also mid-run.
  async freeze({ run: name, layer, frozen }, id) {
    const targets = namedRuns(name);
    await catchUp();
    for (const run of targets) {
      run.trainer.setFrozen(layer, !!frozen);
      await helpers.call(run, 'setFrozen', [layer, !!frozen]);
    }
    post('layers', { runs: targets.map((run) => ({ name: run.name, layers: run.trainer.layers() })) }, id);
  },
  // Sets one layer's learning-rate multiplier in the named run (every run if none), also mid-run.
  async layerLr({ run: name, layer, multiplier }, id) {
    const targets = namedRuns(name);
    await catchUp();
    for (const run of targets) {
      run.trainer.setLayerLr(layer, Number(multiplier));
      await helpers.call(run, 'setLayerLr', [layer, Number(multiplier)]);
    }
    post('layers', { runs: targets.map((run) => ({ name: run.name, layers: run.trainer.layers() })) }, id);
  },
  async step(_payload, id) {
    if (!runs.length) throw Object.assign(new Error('no run is configured'), { name: 'StateError' });
    running = false;
    await catchUp();
    for (const run of runs) {
      if (run.done) continue;
      const report = await helpers.step(run);
      if (report) applyReport(report);
    }
    for (const run of runs) run.done = run.trainer.status().done;
    if (runs.every((r) => r.done)) return finish(id);
    postProgress(performance.now());
    postSnapshot(performance.now());
    post('paused', { runs: runs.map((run) => ({ name: run.name, status: run.trainer.status() })) }, id);
  },
  // Continues the configured runs from their resume points (a `snapshot`
  // message of a worker that died), all or none: every point is checked
  // against its run before any run changes.
  async restore({ runs: points }, id) {
    if (!Array.isArray(points) || !points.length) throw Object.assign(new Error('restore needs a non-empty list of resume points'), { name: 'ProtocolError' });
    const pairs = points.map((point) => [namedRuns(point.name)[0], point]);
    await catchUp();
    const fresh = pairs.map(([run]) => run.trainer.snapshot());
    try {
      for (const [run, point] of pairs) run.trainer.restore(point.bytes);
      for (const [run] of pairs) run.test = null; // of weights the run no longer has
    } catch (err) {
      pairs.forEach(([run], i) => run.trainer.restore(fresh[i]));
      throw err;
    }
    for (const [run, point] of pairs) await helpers.restored(run, point.bytes, Number(point.busyMs) || 0);
    for (const [run, point] of pairs) {
      run.busyMs = Number(point.busyMs) || 0;
      run.done = run.trainer.status().done;
    }
    post('restored', { runs: runs.map((run) => ({ name: run.name, status: run.trainer.status() })) }, id);
  },
  // Inside the network (src/train/inspect.rs). Every run's probabilities
  // for images the page drew (runs of another image shape say so instead).
  predict({ pixels }, id) {
    post('predicted', {
      runs: runs.map((run) => {
        const [c, h, w] = run.info.shape;
        if (pixels.length !== c * h * w) return { name: run.name, classes: run.info.classes, problem: `it takes ${c}×${h}×${w} images` };
        return { name: run.name, classes: run.info.classes, probabilities: run.trainer.predict(pixels)[0] };
      }),
    }, id);
  },
  // Each run's first layer with weights: its filters (or a dense layer's
  // incoming weights per unit), and a fine-tuned run's base's, to compare.
  async filters(_payload, id) {
    const out = [];
    for (const run of runs) {
      const first = run.trainer.layers().find((layer) => layer.params > 0 && ['conv2d', 'dense'].includes(layer.name));
      const weights = first ? run.trainer.layerWeights(first.index) : null;
      const base = first && run.baseUrl ? checkpointLayerWeights(run.baseUrl, await loadCheckpoint(run.baseUrl), first.index) : null;
      // A second convolution's filters too, as a grid (each averaged over its input channels).
      const second = first && first.name === 'conv2d' ? run.trainer.layers().find((layer) => layer.index > first.index && layer.name === 'conv2d') : null;
      out.push({ name: run.name, shape: run.info.shape, weights, base, second: second ? run.trainer.layerWeights(second.index) : null });
    }
    const buffers = out.flatMap((r) => [r.weights, r.base, r.second].filter(Boolean).map((w) => w.values.buffer));
    post('filters', { runs: out }, id, buffers);
  },
  // Every layer's output for one image of the named run (default: the first):
  // test image number `index`, or the image in `pixels` (a drawing).
  activations({ run: name, index, pixels }, id) {
    const run = name === undefined ? runs[0] : namedRuns(name)[0];
    if (!run) throw Object.assign(new Error('no run is configured'), { name: 'StateError' });
    const image = pixels ? { pixels, label: null } : run.trainer.testImage(Number(index) || 0);
    const layers = run.trainer.activations(Uint8Array.from(image.pixels));
    post('activated', { name: run.name, classes: run.info.classes, shape: run.info.shape, pixels: image.pixels, label: image.label, layers }, id, layers.map((l) => l.values.buffer));
  },
  // A held-out split of every run, image by image: per class, confusion, the surest mistakes.
  inspectSplit({ split, mistakes }, id) {
    post('inspected', { runs: runs.map((run) => ({ name: run.name, classes: run.info.classes, shape: run.info.shape, report: run.trainer.inspectSplit(split, mistakes) })) }, id);
  },
  // How much memory the core holds (wasm memory only grows: a leak stays), for make bench.
  memory(_payload, id) {
    post('memory', { wasmBytes: wasmMemory.buffer.byteLength }, id);
  },
  // The named run's model as a checkpoint file (.ftlc), with how it was made.
  checkpoint({ run: name }, id) {
    const [run] = namedRuns(name);
    const bytes = run.trainer.toCheckpoint(`trained in the browser by Fine-Tune Lab (${kernelBuild()} kernels); run '${run.name}'`);
    post('checkpointed', { name: run.name, bytes, info: checkpointInfo(run.name, bytes) }, id);
  },
  // What a checkpoint file is, changing nothing: a damaged, foreign or
  // future-version file is a CheckpointError naming the problem.
  inspectCheckpoint({ name, bytes }, id) {
    post('inspected', { info: checkpointInfo(name, bytes) }, id);
  },
  // A checkpoint the page holds (a saved or uploaded model) as a base under `url`.
  addCheckpoint({ url, name, bytes }, id) {
    const info = checkpointInfo(name, bytes);
    checkpoints.set(url, Promise.resolve(bytes));
    post('checkpointAdded', { url, info }, id);
  },
  // A checkpoint (by its url) measured on a dataset's split: overall, per class and the confusion matrix.
  evaluate: ({ datasetUrl, checkpointUrl, name, split }, id) =>
    whileBuilding(async () => {
      const dataset = await loadDataset(datasetUrl);
      const bytes = await loadCheckpoint(checkpointUrl);
      post('evaluated', { report: dataset.evaluateCheckpoint(name || checkpointUrl, bytes, split) }, id);
    }),
  // A checkpoint file as an ONNX model or PyTorch-named safetensors (the same bytes as `finetune-lab export`).
  exportOnnx({ name, bytes }, id) {
    post('exported', { bytes: exportOnnx(name, bytes) }, id);
  },
  exportSafetensors({ name, bytes }, id) {
    post('exported', { bytes: exportSafetensors(name, bytes) }, id);
  },
};

// Alive and listening: the page replaces a worker whose heartbeat stops.
setInterval(() => post('heartbeat', {}), HEARTBEAT_MS);

// The build comes from the worker's own URL (?build=…), set by the page.
let wasmModule, buildUrl, DatasetHandle, validateConfig, kernelBuild, lastPanic, checkpointInfo, checkpointLayerWeights, exportOnnx, exportSafetensors, wasmMemory;
const ready = (async () => {
  const build = chooseBuild(new URL(self.location.href).searchParams.get('build'));
  buildUrl = build.url;
  const wasm = await import(build.url);
  wasmModule = wasm;
  wasmMemory = (await wasm.default()).memory;
  ({ DatasetHandle, validateConfig, kernelBuild, lastPanic, checkpointInfo, checkpointLayerWeights, exportOnnx, exportSafetensors } = wasm);
  post('ready', { build: wasm.kernelBuild(), catalog: wasm.catalog() });
})();
ready.catch((err) => postError(err));

self.onmessage = async (event) => {
  const msg = event.data;
  const problem = versionError(msg);
  if (problem) return post('error', { code: 'ProtocolError', message: problem, replyTo: msg && msg.id });
  const handler = handlers[msg.type];
  if (!handler) return post('error', { code: 'ProtocolError', message: `unknown message type '${msg.type}'`, replyTo: msg.id });
  try {
    await ready;
    // `pause` ends the chunk under way; everything else waits for it.
    if (msg.type === 'pause') {
      pausedWhileRunning = pausedWhileRunning || running;
      running = false;
    }
    await exclusive(() => handler(msg.payload || {}, msg.id));
  } catch (err) {
    postError(err, msg.id);
  }
};
