// Wiring only: owns the Worker, routes its messages to the panels, and turns
// button presses into protocol messages. Panels never talk to the worker.

import { message } from './protocol.js';
import { Controls } from './controls.js';
import { Charts } from './charts.js';
import { StatusPanel } from './status.js';

const $ = (id) => document.getElementById(id);
const form = $('controls');
const controls = new Controls(form);
const charts = new Charts($('loss-chart'), $('acc-chart'));
const status = new StatusPanel(document.querySelector('.status-panel'));
const buttons = { train: $('train'), pause: $('pause'), step: $('step'), reset: $('reset') };

// 'loading' | 'idle' | 'running' | 'paused' | 'done' | 'failed'
let state = 'loading';
let hasRun = false; // the worker holds a run matching the form
let settingsChanged = false;
let worker = null;
let nextId = 1;
const replies = new Map(); // id → {resolve, reject}

function setState(next) {
  state = next;
  const busy = state === 'loading';
  buttons.train.disabled = busy || state === 'running';
  buttons.pause.disabled = state !== 'running';
  buttons.step.disabled = busy || state === 'running' || (state === 'done' && !settingsChanged);
  buttons.reset.disabled = busy || !hasRun;
  for (const fs of form.querySelectorAll('fieldset')) fs.disabled = state === 'running';
  document.body.dataset.state = state;
}

function request(type, payload = {}) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    replies.set(id, { resolve, reject });
    worker.postMessage(message(type, payload, id));
  });
}

function send(type, payload = {}) {
  worker.postMessage(message(type, payload));
}

function startWorker() {
  // ?build=simd128|relaxed on the page chooses the wasm build (default: the best this browser runs).
  const workerUrl = new URL('./worker.js', import.meta.url);
  const build = new URLSearchParams(location.search).get('build');
  if (build) workerUrl.searchParams.set('build', build);
  worker = new Worker(workerUrl, { type: 'module' });
  worker.onmessage = (event) => onWorkerMessage(event.data);
  worker.onerror = (event) => {
    event.preventDefault();
    onWorkerCrash(event.message || 'the worker failed to start');
  };
  worker.onmessageerror = () => onWorkerCrash('a message from the worker could not be read');
}

function onWorkerCrash(reason) {
  worker.terminate();
  for (const { reject } of replies.values()) reject(new Error(reason));
  replies.clear();
  hasRun = false;
  status.message(`The training worker stopped unexpectedly (${reason}). Your charts are kept; press Train to start a new run.`, { error: true });
  startWorker();
  setState('loading');
}

function onWorkerMessage(msg) {
  const { type, payload, id } = msg;
  const waiting = id !== undefined ? replies.get(id) : undefined;
  switch (type) {
    case 'ready':
      document.querySelector('[data-testid="build"]').textContent = payload.build;
      if (state === 'loading') {
        if (!status.line.classList.contains('error')) status.message(`Ready (${payload.build} kernels). Choose a configuration and press Train.`);
        setState('idle');
      }
      break;
    case 'progress':
      if (!hasRun) break; // late news from a run that was reset
      charts.addTraining(payload.windows);
      charts.addValidation(payload.evals);
      if (payload.windows.length) status.metrics({ trainLoss: payload.windows.at(-1).loss });
      if (payload.evals.length) status.metrics({ valAcc: payload.evals.at(-1).val_acc });
      status.progress(payload.status, state === 'running' ? 'training' : 'paused', payload.imagesPerSec);
      break;
    case 'done':
      if (!hasRun) break;
      setState('done');
      status.metrics({ testAcc: payload.test ? payload.test.acc : null });
      status.progress(payload.status, 'done', 0);
      break;
    case 'paused':
      // After Reset (state idle) the worker's late confirmation changes nothing.
      if (state === 'running') setState('paused');
      if (hasRun && payload.status) status.progress(payload.status, 'paused', 0);
      break;
    case 'error': {
      const text = `${payload.code}: ${payload.message}`;
      if (payload.replyTo !== undefined && replies.has(payload.replyTo)) {
        replies.get(payload.replyTo).reject(Object.assign(new Error(payload.message), { code: payload.code }));
        replies.delete(payload.replyTo);
      } else {
        status.message(text, { error: true });
        setState(hasRun ? 'paused' : 'failed');
      }
      return;
    }
  }
  if (waiting) {
    replies.delete(id);
    waiting.resolve(payload);
  }
}

// Builds a new run from the form; the old charts go only once the new run exists.
async function configure() {
  const request_ = controls.read();
  if (!request_) return false;
  status.message('Preparing the run…');
  try {
    const info = await request('configure', request_);
    charts.clear();
    status.clear();
    hasRun = true;
    settingsChanged = false;
    const { splits } = info.dataset;
    status.runInfo(
      `${info.dataset.name}: ${splits.train} training / ${splits.validation} validation / ${splits.test} test images · ` +
        `${info.paramCount.toLocaleString('en-US')} parameters · batch ${info.status.batch_size}, ${info.status.steps_per_epoch} steps per epoch`,
    );
    return true;
  } catch (err) {
    status.message(`${err.code || 'Error'}: ${err.message}`, { error: true });
    setState(hasRun ? 'paused' : 'failed');
    return false;
  }
}

buttons.train.addEventListener('click', async () => {
  if (!hasRun || settingsChanged || state === 'done') {
    if (!(await configure())) return;
  }
  setState('running');
  send('start');
});

buttons.pause.addEventListener('click', () => send('pause'));

buttons.step.addEventListener('click', async () => {
  if (!hasRun || settingsChanged) {
    if (!(await configure())) return;
  }
  setState('paused');
  try {
    await request('step');
  } catch (err) {
    status.message(`${err.code || 'Error'}: ${err.message}`, { error: true });
  }
});

buttons.reset.addEventListener('click', () => {
  send('pause');
  hasRun = false;
  charts.clear();
  status.clear();
  status.message('Reset. Press Train to start a new run.');
  setState('idle');
});

controls.onChange(() => {
  controls.read();
  if (hasRun && state !== 'running') {
    settingsChanged = true;
    status.runInfo('Settings changed: Train starts a new run with them.');
    setState(state);
  }
});

startWorker();
setState('loading');
