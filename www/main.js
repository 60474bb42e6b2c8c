// Wiring only: owns the Worker, routes its messages to the panels, and turns
// button presses into protocol messages. Panels never talk to the worker.

import { message } from './protocol.js';
import { Controls } from './controls.js';
import { Charts, MAX_KEPT } from './charts.js';
import { StatusPanel } from './status.js';
import { SweepPanel, SWEEP_KS } from './sweep.js';
import { LayersPanel } from './layers.js';
import { AugmentPanel, describeAugment } from './augment-panel.js';
import { OwnImages, OWN_DATASET } from './own-images.js';
import { encodeForm, applyHash } from './share.js';

const $ = (id) => document.getElementById(id);
const form = $('controls');
const controls = new Controls(form);
const charts = new Charts($('loss-chart'), $('acc-chart'));
const status = new StatusPanel(document.querySelector('.status-panel'));
const sweepPanel = new SweepPanel($('sweep-figure'));
// Layer choices go to the worker at once while a single run is live;
// otherwise they shape the next run, and the panel previews it.
const layersPanel = new LayersPanel(document.querySelector('[data-testid="layers"]'), {
  onFreeze: (layer, frozen, box) =>
    changeLayer('freeze', { layer, frozen }, () => {
      box.checked = !frozen; // the worker refused: show the layer as it really is
    }),
  onRate: (layer, multiplier) => changeLayer('layerLr', { layer, multiplier }, () => {}),
});
let layersLive = false; // the panel shows the worker's single live run

async function changeLayer(type, payload, undo) {
  if (!(layersLive && hasRun && !settingsChanged)) {
    markSettingsChanged();
    return describeSoon();
  }
  try {
    const reply = await request(type, payload);
    layersPanel.show(reply.runs[0].layers);
  } catch (err) {
    undo();
    status.message(`${err.code || 'Error'}: ${err.message}`, { error: true });
  }
}

// Shows the layers the form would build (free training only), before any run exists.
let describeTimer = null;
function describeSoon() {
  clearTimeout(describeTimer);
  describeTimer = setTimeout(describeForm, 150);
}
async function describeForm() {
  if (state === 'loading' || state === 'running' || (hasRun && !settingsChanged)) return;
  if (!controls.isFree()) return layersPanel.hide();
  const experiment = readForm();
  if (!experiment || !experiment.runs) return;
  try {
    await prepareOwnRuns(experiment.runs);
    const run = await request('describe', { run: experiment.runs[0] });
    if (!(hasRun && !settingsChanged) && controls.isFree()) {
      layersPanel.show(run.layers);
      layersLive = false;
    }
  } catch {
    layersPanel.hide(); // the form's problem is reported when the user presses Train
  }
}

// The user's own images: any change makes a new run (and a new preview).
const ownImages = new OwnImages(document.querySelector('[data-testid="own-images"]'), () => {
  const option = form.elements.dataset.querySelector(`option[value="${OWN_DATASET}"]`);
  option.textContent = `Your images (${ownImages.imageCount().toLocaleString('en-US')})`;
  if (form.elements.dataset.value === OWN_DATASET) {
    markSettingsChanged();
    describeSoon();
    augmentPanel.refresh();
  }
});
const ownSent = new Map(); // own dataset url → version the worker has

// Runs on "Your images" get the dataset file in the form they need: a
// pretrained base takes 28×28 greyscale whatever the chosen form.
async function prepareOwnRuns(runs) {
  const notes = [];
  for (const run of runs) {
    if (run.datasetUrl !== OWN_DATASET) continue;
    const problem = ownImages.problem();
    if (problem) throw Object.assign(new Error(`Your images: ${problem}.`), { code: 'DatasetError' });
    const imageForm = run.base ? 'grey28' : ownImages.form;
    if (run.base && ownImages.form !== 'grey28') notes.push('Your colour images are converted to 28×28 greyscale, the pretrained base’s input.');
    run.datasetUrl = `${OWN_DATASET}:${imageForm}`;
    if (ownSent.get(run.datasetUrl) !== ownImages.version) {
      await request('addDataset', { url: run.datasetUrl, name: `your images (${ownImages.formLabel(imageForm)})`, bytes: ownImages.datasetBytes(imageForm) });
      ownSent.set(run.datasetUrl, ownImages.version);
    }
  }
  return notes;
}

// The live augmentation preview shows the images the next run would train on.
const augmentPanel = new AugmentPanel(form.querySelector('fieldset.augment'), document.querySelector('[data-testid="augment-preview"]'), async (augment, count, seed) => {
  if (state === 'loading') throw new Error('the training core is still loading');
  const experiment = controls.read(layersPanel.choices(), augment);
  const first = experiment && (experiment.runs ? experiment.runs[0] : experiment.sweep(1)[0]);
  if (!first) throw new Error('the settings above have a problem');
  await prepareOwnRuns([first]);
  return request('preview', { datasetUrl: first.datasetUrl, classes: first.classes, augment, count, seed });
});

const buttons = { train: $('train'), pause: $('pause'), step: $('step'), reset: $('reset'), keep: $('keep') };
let configuredRuns = []; // the run specs the worker holds (for labels of kept runs)
let kept = []; // [{label, valAcc, testAcc}], in the charts' order

// 'loading' | 'idle' | 'running' | 'paused' | 'done' | 'failed'
let state = 'loading';
let hasRun = false; // the worker holds a run matching the form
let settingsChanged = false;
let changedWhileRunning = false; // a slider moved during a run: the next Train starts a new one
let sweep = null; // {runsFor: k → runs, index} while a data-economy sweep is under way
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
  buttons.keep.disabled = !hasRun || !(state === 'done' || state === 'paused') || sweep !== null;
  // The augmentation sliders stay live during a run (the preview follows
  // them; the change applies to the next run): disabling them restyles and
  // repaints every native slider, one of the few main-thread tasks over 50 ms
  // measured in headless Chromium.
  for (const fs of form.querySelectorAll('fieldset:not(.augment)')) fs.disabled = state === 'running';
  if (state !== 'running' && changedWhileRunning) {
    changedWhileRunning = false;
    markSettingsChanged();
  }
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
  ownSent.clear(); // a new worker has none of the user's images yet
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
        describeSoon();
        augmentPanel.refresh();
      }
      break;
    case 'progress': {
      if (!hasRun) break; // late news from a run that was reset
      for (const run of payload.runs) {
        charts.add(run.name, run.windows, run.evals);
        for (const e of run.evals) status.runMetrics(run.name, { trainAcc: e.train_acc, valAcc: e.val_acc, sourceAcc: e.source_acc });
      }
      // The headline numbers follow the first run (the only one outside experiments).
      const first = payload.runs[0];
      if (first.windows.length) status.metrics({ trainLoss: first.windows.at(-1).loss });
      if (first.evals.length) status.metrics({ valAcc: first.evals.at(-1).val_acc });
      const speed = payload.runs.reduce((a, r) => a + r.imagesPerSec, 0) / payload.runs.length;
      status.progress(first.status, state === 'running' ? 'training' : 'paused', speed);
      break;
    }
    case 'done':
      if (!hasRun) break;
      for (const run of payload.runs) status.runMetrics(run.name, { testAcc: run.test ? run.test.acc : null });
      status.metrics({ testAcc: payload.runs[0].test ? payload.runs[0].test.acc : null });
      status.progress(payload.runs[0].status, 'done', 0);
      if (sweep) {
        sweepPanel.add(SWEEP_KS[sweep.index], Object.fromEntries(payload.runs.map((r) => [r.name, r.test ? r.test.acc : null])));
        sweep.index += 1;
        if (sweep.index < SWEEP_KS.length) {
          nextSweepStep();
          break;
        }
        sweep = null;
        status.message('Data-economy sweep done: every K trained from scratch and fine-tuned.');
      }
      setState('done');
      break;
    case 'paused':
      // After Reset (state idle) the worker's late confirmation changes nothing.
      if (state === 'running') setState('paused');
      if (hasRun && payload.runs && payload.runs.length) status.progress(payload.runs[0].status, 'paused', 0);
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
async function configure(runs) {
  status.message(runs.length > 1 ? `Preparing ${runs.length} runs…` : 'Preparing the run…');
  try {
    const notes = await prepareOwnRuns(runs);
    const info = await request('configure', { runs });
    charts.setRuns(runs.map((r) => r.name), { source: runs.some((r) => r.base && r.base.sourceClasses) });
    status.clear();
    status.setRuns(runs);
    configuredRuns = runs;
    // Per-layer freezing is for a single run; experiments freeze as they are defined.
    layersLive = info.runs.length === 1;
    if (layersLive) layersPanel.show(info.runs[0].layers);
    else layersPanel.hide();
    hasRun = true;
    settingsChanged = false;
    const first = info.runs[0];
    const { splits } = first.dataset;
    status.runInfo(
      `${first.dataset.name}, classes ${first.dataset.classes.join(' ')}: ${first.status.train_images} training / ${splits.validation} validation / ${splits.test} test images · ` +
        `${first.paramCount.toLocaleString('en-US')} parameters · batch ${first.status.batch_size}, ${first.status.steps_per_epoch} steps per epoch` +
        (info.runs.length > 1 ? ` · ${info.runs.length} runs, same data, seed and budget` : '') +
        (describeAugment(runs[0].config.augment) ? ` · ${describeAugment(runs[0].config.augment)}` : '') +
        (notes.length ? ` · ${notes[0]}` : ''),
    );
    return true;
  } catch (err) {
    status.message(`${err.code || 'Error'}: ${err.message}`, { error: true });
    setState(hasRun ? 'paused' : 'failed');
    return false;
  }
}

// Starts the configured runs once the page has shown them. Pressing Train
// restyles the whole form (its fieldsets are disabled) and fills the status,
// runs and layers panels; rendering that while the worker already takes one
// of the machine's cores made that frame one of the few main-thread tasks
// over 50 ms. One frame later the worker starts (or after 100 ms: a hidden
// tab draws no frames); a Pause pressed meanwhile wins.
function startAfterNextFrame() {
  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    if (state === 'running') send('start');
  };
  requestAnimationFrame(() => setTimeout(start, 0));
  setTimeout(start, 100);
}

// Configures and starts the sweep's pair of runs for the current K.
async function nextSweepStep() {
  const k = SWEEP_KS[sweep.index];
  if (!(await configure(sweep.runsFor(k)))) {
    sweep = null;
    return;
  }
  status.runInfo(`Data-economy sweep: K = ${k} labelled images per class (${sweep.index + 1} of ${SWEEP_KS.length})`);
  setState('running');
  startAfterNextFrame();
}

buttons.train.addEventListener('click', async () => {
  const resume = hasRun && !settingsChanged && state === 'paused';
  if (!resume) {
    const experiment = readForm();
    if (!experiment) return;
    if (experiment.sweep) {
      sweep = { runsFor: experiment.sweep, index: 0 };
      sweepPanel.reset(['from scratch', 'fine-tuned']);
      return nextSweepStep();
    }
    sweep = null;
    sweepPanel.hide();
    if (!(await configure(experiment.runs))) return;
  }
  setState('running');
  startAfterNextFrame();
});

buttons.pause.addEventListener('click', () => send('pause'));

buttons.step.addEventListener('click', async () => {
  if (!hasRun || settingsChanged) {
    const experiment = readForm();
    if (!experiment) return;
    if (experiment.sweep) {
      status.message('Step is for single runs: the sweep trains many; press Train.', { error: true });
      return;
    }
    if (!(await configure(experiment.runs))) return;
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
  sweep = null;
  hasRun = false;
  charts.clear();
  status.clear();
  layersLive = false;
  status.message('Reset. Press Train to start a new run.');
  setState('idle');
  describeSoon();
});

function markSettingsChanged() {
  if (hasRun && state === 'running') changedWhileRunning = true;
  if (hasRun && state !== 'running' && !settingsChanged) {
    settingsChanged = true;
    status.runInfo('Settings changed: Train starts a new run with them.');
    setState(state);
  }
}

// The form, the layers panel's choices and the augmentation sliders, as runs.
const readForm = () => controls.read(layersPanel.choices(), augmentPanel.config());

controls.onChange((event) => {
  // Another model means other layers: per-layer choices no longer apply.
  const what = event.target.name;
  if (['model', 'startFrom', 'dataset', 'experiment'].includes(what)) layersPanel.forget();
  readForm();
  markSettingsChanged();
  describeSoon();
  if (['startFrom', 'dataset', 'experiment'].includes(what)) augmentPanel.refresh();
  if (what === 'dataset' && event.target.value === OWN_DATASET) document.querySelector('[data-testid="own-images"]').open = true;
});

$('x-axis').addEventListener('change', (event) => charts.setXAxis(event.target.value));

// "Keep on charts": the finished (or paused) runs stay as dashed validation
// curves, with their numbers in the runs list, while other runs train.
function showKept() {
  status.setKept(kept, (i) => {
    kept.splice(i, 1);
    charts.removeKept(i);
    showKept();
  });
}
buttons.keep.addEventListener('click', () => {
  const labels = configuredRuns.map((run) => describeRun(run));
  const keptRuns = charts.keepCurrent(labels);
  kept = kept.concat(keptRuns.map((i) => ({ label: labels[i], ...status.shownNumbers(configuredRuns[i].name) }))).slice(-MAX_KEPT);
  showKept();
});

// A short label of a run's configuration, for the kept-runs list and legend.
function describeRun(run) {
  const c = run.config;
  const name = run.name === 'run' ? '' : `${run.name}: `;
  return `${name}${run.detail} · ${c.optimizer.kind} lr ${c.lr} · batch ${c.batch_size} · ${c.epochs} epochs${c.dropout ? ` · dropout ${c.dropout}` : ''}${c.l2 ? ` · L2 ${c.l2}` : ''}`;
}

// Shareable settings: the link carries every non-default field in its #hash.
$('share').addEventListener('click', async () => {
  const hash = encodeForm(form);
  history.replaceState(null, '', hash || location.pathname + location.search);
  try {
    await navigator.clipboard.writeText(location.href);
    status.message('Link copied: it opens the page with these settings.');
  } catch {
    status.message('The page’s address now holds these settings: copy it to share them.');
  }
});
const linkProblems = applyHash(form, location.hash);
if (linkProblems.length) {
  status.message(`This link’s settings were partly unreadable; left at their defaults: ${linkProblems.join('; ')}.`, { error: true });
}

startWorker();
setState('loading');
