// The module worker that owns the wasm trainer. It trains in chunks of about
// CHUNK_MS and yields between them, so `pause` and `step` get through at once,
// and batches progress into a few messages per second.

import { message, versionError } from './protocol.js';
import { chooseBuild } from './wasm-build.js';

const CHUNK_MS = 25;
const PROGRESS_MS = 250;
const SPEED_WINDOW_MS = 2000;

const datasets = new Map(); // url → Promise<DatasetHandle>
let trainer = null;
let running = false;
let lastPost = 0;
let speedSamples = []; // {t, images, ms}: training time only, evaluation excluded

const post = (type, payload, id) => self.postMessage(message(type, payload, id));

function postError(err, replyTo) {
  const code = (err && err.name) || 'Error';
  post('error', { code, message: String((err && err.message) || err), replyTo });
}

// A zero-delay yield: MessageChannel tasks are not clamped like nested setTimeout.
const channel = new MessageChannel();
channel.port1.onmessage = () => runChunk();
const yieldThenRun = () => channel.port2.postMessage(null);

function imagesPerSec(now) {
  speedSamples = speedSamples.filter((s) => now - s.t < SPEED_WINDOW_MS);
  const images = speedSamples.reduce((a, s) => a + s.images, 0);
  const ms = speedSamples.reduce((a, s) => a + s.ms, 0);
  return ms > 0 ? (images * 1000) / ms : 0;
}

function postProgress(now) {
  lastPost = now;
  const window = trainer.takeWindow();
  post('progress', {
    windows: window ? [window] : [],
    evals: trainer.takeEvals(),
    status: trainer.status(),
    imagesPerSec: imagesPerSec(now),
  });
}

function runChunk() {
  if (!running || !trainer) return;
  const start = performance.now();
  let images = 0;
  let trainMs = 0;
  let finished = false;
  try {
    while (performance.now() - start < CHUNK_MS) {
      const t = performance.now();
      const result = trainer.tick();
      if (result > 0) {
        images += result;
        trainMs += performance.now() - t;
      } else if (result < 0) {
        finished = true;
        break;
      }
    }
  } catch (err) {
    running = false;
    postProgress(performance.now()); // keep every point measured before the failure
    postError(err);
    return;
  }
  const now = performance.now();
  if (images > 0) speedSamples.push({ t: now, images, ms: trainMs });
  if (finished) {
    running = false;
    postProgress(now);
    post('done', { status: trainer.status(), test: trainer.evaluateTest() });
    return;
  }
  if (now - lastPost >= PROGRESS_MS) postProgress(now);
  yieldThenRun();
}

async function loadDataset(url) {
  if (!datasets.has(url)) {
    const loading = (async () => {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`cannot load dataset ${url}: HTTP ${response.status}`);
      const bytes = new Uint8Array(await response.arrayBuffer());
      return DatasetHandle.fromBytes(url, bytes);
    })();
    datasets.set(url, loading);
    loading.catch(() => datasets.delete(url)); // a failed load may be retried
  }
  return datasets.get(url);
}

const handlers = {
  async configure({ datasetUrl, config }, id) {
    running = false;
    const dataset = await loadDataset(datasetUrl);
    const next = new TrainerHandle(dataset, config); // throws before the old run is dropped
    if (trainer) trainer.free();
    trainer = next;
    speedSamples = [];
    post('configured', { dataset: dataset.info(), layers: trainer.layers(), paramCount: trainer.paramCount(), status: trainer.status() }, id);
  },
  start(_payload, id) {
    if (!trainer) throw Object.assign(new Error('no run is configured'), { name: 'StateError' });
    if (running) return;
    running = true;
    lastPost = performance.now();
    post('started', {}, id);
    yieldThenRun();
  },
  pause(_payload, id) {
    running = false;
    if (trainer) postProgress(performance.now());
    post('paused', { status: trainer ? trainer.status() : null }, id);
  },
  step(_payload, id) {
    if (!trainer) throw Object.assign(new Error('no run is configured'), { name: 'StateError' });
    running = false;
    trainer.stepOnce();
    postProgress(performance.now());
    const status = trainer.status();
    if (status.done) post('done', { status, test: trainer.evaluateTest() }, id);
    else post('paused', { status }, id);
  },
};

// The build comes from the worker's own URL (?build=…), set by the page.
let DatasetHandle, TrainerHandle;
const ready = (async () => {
  const build = chooseBuild(new URL(self.location.href).searchParams.get('build'));
  const wasm = await import(build.url);
  await wasm.default();
  ({ DatasetHandle, TrainerHandle } = wasm);
  post('ready', { build: wasm.kernelBuild() });
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
    await handler(msg.payload || {}, msg.id);
  } catch (err) {
    postError(err, msg.id);
  }
};
