// Wiring only: builds the panels and connects them to the page's session
// (session.js: what the page is doing and what each button may do) and to
// the worker client (worker-client.js: owns the Worker). Panels never talk
// to the worker directly; they get callbacks from here.
//
// Over 400 lines because it is every panel's wiring in one readable place,
// in sections (panels, session and worker, runs, buttons, form, links and
// embedding, kept on this device); each piece of logic it calls lives in the
// module named after it. The next piece to move out: the runs' configure /
// sweep / restore flow (the "Runs" section) into a module of its own.

import { Session } from './session.js';
import { WorkerClient } from './worker-client.js';
import { Controls } from './controls.js';
import { Charts, MAX_KEPT } from './charts.js';
import { StatusPanel } from './status.js';
import { SweepPanel, SWEEP_KS } from './sweep.js';
import { Recovery } from './recovery.js';
import { fileName, saveBytes } from './download.js';
import { Keeping } from './keeping.js';
import { InsidePanel } from './inside.js';
import { ClaimsGallery, RunResults } from './claims.js';
import { LayersPanel } from './layers.js';
import { AugmentPanel, describeAugment } from './augment-panel.js';
import { OwnImages, OWN_DATASET } from './own-images.js';
import { Links } from './links.js';
import { ShareDialog } from './share-dialog.js';
import { Classroom } from './classroom.js';
import { Tutorial } from './tutorial.js';
import { EmbedHost } from './embed-host.js';
import { setCatalog } from './catalog.js';
import { ownImageLimits, runLimits } from './limits-note.js';

const $ = (id) => document.getElementById(id);
const form = $('controls');
const buttons = { train: $('train'), pause: $('pause'), step: $('step'), reset: $('reset'), keep: $('keep'), download: $('download') };
const exportButtons = { csv: $('export-csv'), json: $('export-json'), png: $('export-png'), onnx: $('export-onnx') };

// ---- The panels ---------------------------------------------------------------

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
// The user's own images: any change makes a new run (and a new preview).
const ownImages = new OwnImages(document.querySelector('[data-testid="own-images"]'), () => {
  const option = form.elements.dataset.querySelector(`option[value="${OWN_DATASET}"]`);
  option.textContent = `Your images (${ownImages.imageCount().toLocaleString('en-US')})`;
  if (form.elements.dataset.value === OWN_DATASET) {
    session.settingsEdited();
    describeSoon();
    augmentPanel.refresh();
  }
  saveImagesSoon();
});
// The live augmentation preview shows the images the next run would train on.
const augmentPanel = new AugmentPanel(form.querySelector('fieldset.augment'), document.querySelector('[data-testid="augment-preview"]'), async (augment, count, seed) => {
  if (!session.workerUsable) throw new Error('the training core is still loading');
  const experiment = controls.read(layersPanel.choices(), augment);
  const first = experiment && (experiment.runs ? experiment.runs[0] : experiment.sweep(1)[0]);
  if (!first) throw new Error('the settings above have a problem');
  await prepareOwnRuns([first]);
  return worker.request('preview', { datasetUrl: first.datasetUrl, classes: first.classes, augment, count, seed });
});

// Inside the network: filters, a drawing pad and the mistakes of every configured run.
const inside = new InsidePanel(document.querySelector('[data-testid="inside"]'), (type, payload) => worker.request(type, payload), () => session.workerUsable && configuredRuns.length > 0);

// The claims gallery: each claim's experiment, run, and judged by its rule.
const runResults = new RunResults();
const claims = new ClaimsGallery(document.querySelector('[data-testid="claims"]'), {
  apply: (settings) => {
    links.applySettings(settings);
    render();
    describeSoon();
  },
  train: () => buttons.train.click(),
  results: (epochs) => runResults.view(epochs, sweepPanel.points),
  perClass: async () => new Map((await worker.request('inspectSplit', { split: 'test', mistakes: 0 })).runs.map((run) => [run.name, run.report.per_class])),
  hashFor: (settings) => `#${new URLSearchParams(settings)}`,
});

// ---- The session and the worker -------------------------------------------------

const session = new Session({
  onChange(event) {
    if (event.type === 'settingsChanged') status.runInfo('Settings changed: Train starts a new run with them.');
    render();
  },
});

// What the session allows, on the buttons, the form and body[data-state] (which page tests wait for).
function render() {
  buttons.train.disabled = !session.canTrain;
  buttons.pause.disabled = !session.canPause;
  buttons.step.disabled = !session.canStep;
  buttons.reset.disabled = !session.canReset;
  buttons.keep.disabled = !session.canKeep;
  buttons.download.disabled = !session.canDownload;
  for (const button of Object.values(exportButtons)) button.disabled = !session.canDownload;
  // The augmentation sliders stay live during a run (the preview follows
  // them; the change applies to the next run): disabling them restyles and
  // repaints every native slider, one of the few main-thread tasks over 50 ms
  // measured in headless Chromium.
  for (const fs of form.querySelectorAll('fieldset:not(.augment)')) fs.disabled = session.formLocked || classroom.locked;
  form.querySelector('fieldset.augment').disabled = classroom.locked;
  document.body.dataset.state = session.state;
}

// ?build=simd128|relaxed on the page chooses the wasm build (default: the best this browser runs).
const worker = new WorkerClient(new URL('./worker.js', import.meta.url), {
  build: new URLSearchParams(location.search).get('build'),
  onEvent: onWorkerEvent,
  onCrash(reason, { restarted }) {
    ownSent.clear(); // a new worker has none of the user's images yet
    keeping.workerReplaced();
    session.workerCrashed();
    crashReason = reason;
    const kept = recovery.available ? ' Your charts are kept; the run comes back from its last automatic checkpoint…' : ' Your charts are kept; press Train to start a new run.';
    status.message(
      restarted ? `The training worker stopped (${reason}); a new one is starting.${kept}` : `The training worker cannot start (${reason}). Reload the page to try again.`,
      { error: true },
    );
  },
});

const showError = (err) => status.message(`${err.code || 'Error'}: ${err.message}`, { error: true });

let configuredRuns = []; // the run specs the worker holds (for labels of kept runs)
const recovery = new Recovery(); // the runs' latest resume points, for a worker that dies
let crashReason = null;
let kept = []; // [{label, valAcc, testAcc}], in the charts' order
const ownSent = new Map(); // own dataset url → version the worker has
const lastTest = new Map(); // run name → test accuracy when it ended

function onWorkerEvent(type, payload) {
  switch (type) {
    case 'ready':
      if (!catalogApplied) useCatalog(payload.catalog);
      document.querySelector('[data-testid="build"]').textContent = payload.build;
      if (!status.line.classList.contains('error')) status.message(`Ready (${payload.build} kernels). Choose a configuration and press Train.`);
      session.workerReady();
      warmWorkers();
      describeSoon();
      augmentPanel.refresh();
      if (recovery.available) restoreAfterCrash();
      else {
        embed?.ready(form.elements.experiment.value);
        autostartIfAsked();
      }
      break;
    case 'snapshot':
      if (!session.acceptsRunNews) break;
      recovery.save(configuredRuns, payload, charts.mark());
      document.body.dataset.resumeStep = String(payload.runs[0].step); // for tests, and the curious
      break;
    case 'progress': {
      if (!session.acceptsRunNews) break; // late news from a run that was reset or replaced
      for (const run of payload.runs) {
        charts.add(run.name, run.windows, run.evals);
        inside.health.add(run.name, run.health);
        runResults.progress([run]);
        for (const e of run.evals) status.runMetrics(run.name, { trainAcc: e.train_acc, valAcc: e.val_acc, sourceAcc: e.source_acc, trainLoss: e.train_loss, step: e.step });
      }
      // The headline numbers follow the first run (the only one outside experiments).
      const first = payload.runs[0];
      if (first.windows.length) status.metrics({ trainLoss: first.windows.at(-1).loss });
      if (first.evals.length) status.metrics({ valAcc: first.evals.at(-1).val_acc });
      const speed = payload.runs.reduce((a, r) => a + r.imagesPerSec, 0) / payload.runs.length;
      status.progress(first.status, session.state === 'training' ? 'training' : 'paused', speed);
      embed?.progress(first);
      inside.refreshFilters();
      break;
    }
    case 'done': {
      // A second `done` (a Step and a Train racing to the last step) repeats the first.
      if (!session.acceptsRunNews || session.state === 'done') break;
      for (const run of payload.runs) status.runMetrics(run.name, { testAcc: run.test ? run.test.acc : null });
      status.metrics({ testAcc: payload.runs[0].test ? payload.runs[0].test.acc : null });
      status.progress(payload.runs[0].status, 'done', 0);
      for (const run of payload.runs) lastTest.set(run.name, run.test ? run.test.acc : null);
      runResults.done(payload.runs);
      embed?.done(payload.runs.map((run) => ({ name: run.name, val_acc: charts.rowsOf(configuredRuns.findIndex((r) => r.name === run.name)).filter((r) => r.kind === 'val').at(-1)?.acc ?? null, test_acc: run.test ? run.test.acc : null })));
      const { sweepK, sweepNext } = session.runDone();
      // Each run is kept on this device when it ends (a sweep's many runs are not).
      if (sweepK === null) keeping.saveEnded(payload.runs, 'done');
      if (sweepK !== null) sweepPanel.add(sweepK, Object.fromEntries(payload.runs.map((r) => [r.name, r.test ? r.test.acc : null])));
      if (sweepNext !== null) nextSweepStep();
      else if (sweepK !== null) status.message('Data-economy sweep done: every K trained from scratch and fine-tuned.');
      if (sweepNext === null) claims.finished();
      break;
    }
    case 'runStopped':
      if (!session.acceptsRunNews) break;
      status.runNote(payload.name, `stopped: ${payload.message}`);
      runResults.stopped(payload.name, payload.message);
      break;
    case 'paused':
      // After Reset the worker's late confirmation changes nothing.
      session.workerPaused();
      if (session.acceptsRunNews && payload.runs && payload.runs.length) status.progress(payload.runs[0].status, 'paused', 0);
      break;
    case 'error':
      // An error that answers no request: the core failed to load, or a run stopped.
      status.message(`${payload.code}: ${payload.message}`, { error: true });
      session.workerFailed(payload.code);
      embed?.error(payload.code, payload.message);
      claims.abandon();
      // A diverged run is kept with its last finite weights and its curves.
      if (payload.code === 'DivergedError' && !session.sweep) keeping.saveEnded([], 'diverged');
      break;
  }
}

// ---- Runs -------------------------------------------------------------------------

// Runs on "Your images" get the dataset file in the form they need: a
// pretrained base takes 28×28 greyscale whatever the chosen form.
async function prepareOwnRuns(runs) {
  const notes = [];
  for (const run of runs) {
    if (run.datasetUrl !== OWN_DATASET) continue;
    const imageForm = run.base ? keeping.baseForm(run.base.url) : ownImages.form;
    if (imageForm !== ownImages.form) notes.push(`Your images are converted to ${ownImages.formLabel(imageForm)}, the base’s input.`);
    run.datasetUrl = await ownDataset(imageForm);
  }
  await keeping.prepareBases(runs);
  return notes;
}

// The user's images in `imageForm` as a dataset the worker holds; its url.
async function ownDataset(imageForm) {
  const problem = ownImages.problem();
  if (problem) throw Object.assign(new Error(`Your images: ${problem}.`), { code: 'DatasetError' });
  const url = `${OWN_DATASET}:${imageForm}`;
  if (ownSent.get(url) !== ownImages.version) {
    await worker.request('addDataset', { url, name: `your images (${ownImages.formLabel(imageForm)})`, images: ownImages.datasetImages(imageForm) });
    ownSent.set(url, ownImages.version);
  }
  return url;
}

// How the runs train: on one worker, or sharded over several (and how they talk).
function describeWorkers(parallel) {
  if (!parallel) return '';
  if (parallel.problem) return ` · ${parallel.problem}`;
  if (parallel.workers <= 1) return '';
  return parallel.mode === 'runs in parallel' ? ` · the runs train side by side on ${parallel.workers} workers` : ` · on ${parallel.workers} workers (${parallel.transport})`;
}

// Builds a new run list from the form; the old charts go only once the new
// runs exist (`keepCharts`: the same runs again, after their worker died).
async function configure(runs, { sweep = false, keepCharts = false } = {}) {
  session.configure({ sweep });
  status.message(runs.length > 1 ? `Preparing ${runs.length} runs…` : 'Preparing the run…');
  try {
    const notes = await prepareOwnRuns(runs);
    const info = await worker.request('configure', { runs, workers: controls.workers() });
    if (!keepCharts) {
      charts.setRuns(runs.map((r) => r.name), { source: runs.some((r) => r.base && r.base.sourceClasses) });
      recovery.forget();
    }
    status.clear();
    status.setRuns(runs);
    configuredRuns = runs;
    session.configured(info.runs.length);
    inside.reset(runs.map((r) => r.name));
    runResults.reset(runs.map((r) => r.name));
    // Per-layer freezing is for a single run; experiments freeze as they are defined.
    if (session.layersLive) layersPanel.show(info.runs[0].layers);
    else layersPanel.hide();
    const first = info.runs[0];
    const { splits } = first.dataset;
    status.runInfo(
      `${first.dataset.name}, classes ${first.dataset.classes.join(' ')}: ${first.status.train_images} training / ${splits.validation} validation / ${splits.test} test images · ` +
        `${first.paramCount.toLocaleString('en-US')} parameters · batch ${first.status.batch_size}, ${first.status.steps_per_epoch} step${first.status.steps_per_epoch === 1 ? '' : 's'} per epoch` +
        (info.runs.length > 1 ? ` · ${info.runs.length} runs, same data, seed and budget` : '') +
        (describeAugment(runs[0].config.augment) ? ` · ${describeAugment(runs[0].config.augment)}` : '') +
        describeWorkers(info.parallel) +
        (notes.length ? ` · ${notes[0]}` : ''),
    );
    return true;
  } catch (err) {
    // A crashed worker rejected the request: the crash is already told and the session is 'crashed'.
    if (session.state === 'crashed') return false;
    showError(err);
    session.configureFailed();
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
    if (session.state === 'training') worker.send('start');
  };
  requestAnimationFrame(() => setTimeout(start, 0));
  setTimeout(start, 100);
}

// Configures and starts the sweep's pair of runs for the current K.
async function nextSweepStep() {
  const k = session.sweepK;
  if (!(await configure(session.sweep.runsFor(k), { sweep: true }))) return;
  status.runInfo(`Data-economy sweep: K = ${k} labelled images per class (${session.sweep.index + 1} of ${session.sweep.ks.length})`);
  session.train();
  startAfterNextFrame();
}

// ---- The buttons ----------------------------------------------------------------

// Train and Step first wait for the core's verdict on the form: a second
// press meanwhile is the same press.
let checking = false;
async function whenChecked() {
  if (checking) return null;
  checking = true;
  try {
    return await checkedForm();
  } finally {
    checking = false;
  }
}

buttons.train.addEventListener('click', async () => {
  if (!session.trainResumes) {
    const experiment = await whenChecked();
    if (!experiment || !session.canTrain) return;
    if (experiment.sweep) {
      session.startSweep(experiment.sweep, SWEEP_KS);
      sweepPanel.reset(['from scratch', 'fine-tuned']);
      return nextSweepStep();
    }
    sweepPanel.hide();
    if (!(await configure(experiment.runs))) return;
  }
  session.train();
  startAfterNextFrame();
});

buttons.pause.addEventListener('click', () => worker.send('pause'));

buttons.step.addEventListener('click', async () => {
  if (session.stepConfigures) {
    const experiment = await whenChecked();
    if (!experiment || !session.canStep) return;
    if (experiment.sweep) {
      status.message('Step is for single runs: the sweep trains many; press Train.', { error: true });
      return;
    }
    if (!(await configure(experiment.runs))) return;
  }
  session.step();
  try {
    await worker.request('step');
  } catch (err) {
    if (session.state !== 'crashed') showError(err);
  }
});

// A new worker replaced one that died: the same runs are built again and
// continue from their last resume point; the charts drop what came after it
// (the run trains those steps again, to the same numbers).
async function restoreAfterCrash() {
  const point = recovery.take();
  if (!(await configure(point.specs, { keepCharts: true }))) return;
  try {
    const reply = await worker.request('restore', { runs: point.runs });
    charts.truncate(point.mark);
    const first = reply.runs[0].status;
    status.progress(first, 'paused', 0);
    status.message(
      `The training worker stopped (${crashReason}) and was replaced. The run is back as it was at step ${first.step} of ${first.total_steps}, its last automatic checkpoint: press Train to go on.`,
    );
    recovery.save(point.specs, { runs: point.runs }, point.mark);
  } catch (err) {
    if (session.state !== 'crashed') showError(err);
  }
}

// The current run's model as a checkpoint file (the first run's, in an experiment).
buttons.download.addEventListener('click', async () => {
  const run = configuredRuns[0];
  try {
    const { name, bytes } = await worker.request('checkpoint', { run: run.name });
    const dataset = run.datasetUrl.split('/').at(-1).split(':')[0];
    saveBytes(fileName([name, dataset], 'ftlc'), bytes);
    status.message(`Saved the “${name}” run’s model as a checkpoint (.ftlc).`);
  } catch (err) {
    if (session.state !== 'crashed') showError(err);
  }
});

exportButtons.csv.addEventListener('click', () => keeping.exportCsv());
exportButtons.json.addEventListener('click', () => keeping.exportJson());
exportButtons.png.addEventListener('click', () => keeping.report(keeping.exportPng()));
exportButtons.onnx.addEventListener('click', () => keeping.exportOnnx());

buttons.reset.addEventListener('click', () => {
  claims.abandon();
  worker.send('pause');
  recovery.forget();
  session.reset();
  charts.clear();
  status.clear();
  status.message('Reset. Press Train to start a new run.');
  describeSoon();
});

// "Keep on charts": the finished (or paused) runs stay as dashed validation
// curves, with their numbers in the runs list, while other runs train.
function showKept({ save = true } = {}) {
  status.setKept(kept, (i) => {
    kept.splice(i, 1);
    charts.removeKept(i);
    showKept();
  });
  if (save) keeping.saveKept(kept, charts.keptCurves());
}
buttons.keep.addEventListener('click', () => {
  const labels = configuredRuns.map((run) => describeRun(run));
  const keptRuns = charts.keepCurrent(labels);
  kept = kept.concat(keptRuns.map((i) => ({ label: labels[i], ...status.shownNumbers(configuredRuns[i].name) }))).slice(-MAX_KEPT);
  showKept();
});

// A saved run's validation curve joins the kept ones.
function showSaved(record) {
  charts.addKept(record.name, record.rows);
  const f = record.final || {};
  const fmt = (x) => (x == null ? null : x.toFixed(4));
  kept = kept.concat([{ label: `${record.name}: ${record.detail}`, valAcc: fmt(f.valAcc), testAcc: fmt(f.testAcc) }]).slice(-MAX_KEPT);
  showKept();
}

// A short label of a run's configuration, for the kept-runs list and legend.
function describeRun(run) {
  const c = run.config;
  const name = run.name === 'run' ? '' : `${run.name}: `;
  return `${name}${run.detail} · ${c.optimizer.kind} lr ${c.lr} · batch ${c.batch_size} · ${c.epochs} epochs${c.dropout ? ` · dropout ${c.dropout}` : ''}${c.l2 ? ` · L2 ${c.l2}` : ''}`;
}

// ---- The form and the layers panel -----------------------------------------------

// The form, the layers panel's choices and the augmentation sliders, as runs.
const readForm = () => controls.read(layersPanel.choices(), augmentPanel.config());

// The core's verdict on the settings last read: the form marks every field out of range.
const validate = async (configs) => (await worker.request('validate', { configs })).problems;

// The form as runs, once the core has found nothing wrong with them (null otherwise, with the problems shown).
async function checkedForm() {
  clearTimeout(checkTimer); // this check replaces the one an edit scheduled
  const experiment = readForm();
  try {
    return (await controls.check(validate)) ? experiment : null;
  } catch (err) {
    if (session.state !== 'crashed') showError(err);
    return null;
  }
}

// While the user edits, the core checks the settings a moment later.
let checkTimer = null;
function checkSoon() {
  clearTimeout(checkTimer);
  checkTimer = setTimeout(() => {
    if (session.workerUsable) controls.check(validate).catch(() => {});
  }, 150);
}

controls.onChange((event) => {
  if (!catalogApplied) return; // the form has no choices yet
  // Another model means other layers: per-layer choices no longer apply.
  const what = event.target.name;
  if (['model', 'startFrom', 'dataset', 'experiment'].includes(what)) layersPanel.forget();
  readForm();
  checkSoon();
  session.settingsEdited();
  describeSoon();
  if (['startFrom', 'dataset', 'experiment'].includes(what)) augmentPanel.refresh();
  if (what === 'dataset' && event.target.value === OWN_DATASET) document.querySelector('[data-testid="own-images"]').open = true;
});

async function changeLayer(type, payload, undo) {
  if (!session.layersLive) {
    session.settingsEdited();
    return describeSoon();
  }
  try {
    const reply = await worker.request(type, payload);
    layersPanel.show(reply.runs[0].layers);
  } catch (err) {
    undo();
    showError(err);
  }
}

// The helper workers start when their number is chosen (and with a new
// worker), not when Train is pressed: each compiles the wasm module and
// decodes the data first, a few hundred ms on a loaded machine.
function warmWorkers() {
  if (session.workerUsable) worker.send('warm', { workers: controls.workers() });
}
form.elements.workers.addEventListener('change', warmWorkers);

// Shows the layers the form would build (free training only), before any run exists.
let describeTimer = null;
function describeSoon() {
  clearTimeout(describeTimer);
  describeTimer = setTimeout(describeForm, 150);
}
async function describeForm() {
  if (!session.canDescribe) return;
  if (!controls.isFree()) return layersPanel.hide();
  const experiment = readForm();
  if (!experiment || !experiment.runs) return;
  try {
    await prepareOwnRuns(experiment.runs);
    const run = await worker.request('describe', { run: experiment.runs[0] });
    if (!session.runMatchesForm && controls.isFree()) layersPanel.show(run.layers);
  } catch {
    layersPanel.hide(); // the form's problem is reported when the user presses Train
  }
}

// ---- Links, classrooms and embedding ----------------------------------------------

const classroom = new Classroom(form);
// A tutorial step applies its settings as a link would.
const tutorial = new Tutorial(document.querySelector('[data-testid="tutorial"]'), (settings) => {
  links.applySettings(settings);
  render();
  describeSoon();
});
const links = new Links({ form, xAxis: $('x-axis'), charts, layersPanel, classroom, tutorial, status });
// Shareable settings: the link carries every non-default setting in its #hash.
$('share').addEventListener('click', () => {
  if (!catalogApplied) return status.message('The training core is still loading: the form has no choices to share yet.');
  return links.share();
});
// "Share / embed…": the link and snippets with classroom options, and a preview.
const shareDialog = new ShareDialog(document.querySelector('[data-testid="share-dialog"]'), links, () => classroom.choices({ forPeople: true }));
$('open-share').addEventListener('click', () => {
  if (!catalogApplied) return status.message('The training core is still loading: the form has no choices to share yet.');
  return shareDialog.open();
});
// A new link in the address bar applies without a reload.
window.addEventListener('hashchange', () => {
  if (!catalogApplied) return;
  links.applyLocation({ reset: true });
  render();
  describeSoon();
});

// Inside embed.html, the framing page gets events and may send commands.
const embed = document.body.hasAttribute('data-embed')
  ? new EmbedHost({ buttons, session, applyEntry: (name, value) => links.applyEntry(name, value), whenVisible: () => autostartIfAsked() })
  : null;

// autostart=1: Train once the page is ready and someone can see it.
let autostarted = false;
function autostartIfAsked() {
  const visible = embed ? embed.visible && !document.hidden : !document.hidden;
  if (autostarted || !classroom.autostart || !visible || !session.canTrain) return;
  autostarted = true;
  buttons.train.click();
}
// The form's choices and ranges are the core's (they come with the worker's
// first `ready`); a link's settings are applied once the choices exist.
let catalogApplied = false;
function useCatalog(catalog) {
  setCatalog(catalog);
  document.querySelector('[data-testid="own-limits"]').textContent = ownImageLimits();
  document.querySelector('[data-testid="limits"]').textContent = runLimits();
  controls.useCatalog();
  augmentPanel.useCatalog();
  catalogApplied = true;
  restoreImages();
  links.applyLocation();
  render();
}

// ---- Kept on this device ---------------------------------------------------------

const keeping = new Keeping({
  worker,
  charts,
  status,
  form,
  runs: () => configuredRuns,
  ownDataset,
  describeRun,
  showSaved,
  final: (name) => ({ state: session.state, testAcc: lastTest.get(name) ?? null }),
  cleared() {
    kept = [];
    charts.setKept([]);
    showKept({ save: false });
  },
});

// The user's images are saved a moment after they change (adding a folder
// changes them many times); keeping them is also when the page asks the
// browser not to evict its storage.
let imagesTimer = null;
let imagesRestored = false;
function saveImagesSoon() {
  if (!imagesRestored) return; // the saved ones are not back yet: do not overwrite them
  clearTimeout(imagesTimer);
  imagesTimer = setTimeout(async () => {
    await keeping.saveImages(ownImages.state());
    if (ownImages.imageCount()) await keeping.keepImagesSafe();
  }, 300);
}

const stored = keeping.open().then(async () => {
  const saved = await keeping.loadKept();
  if (saved && Array.isArray(saved.kept)) {
    kept = saved.kept;
    charts.setKept(saved.curves);
    showKept({ save: false });
  }
});

// The images need the core's rules (the catalog) to be shown.
async function restoreImages() {
  await stored;
  const state = await keeping.loadImages();
  if (state && !ownImages.imageCount()) ownImages.restore(state);
  imagesRestored = true;
}

render();
worker.start();
