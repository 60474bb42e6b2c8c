// Keep and take away: what the page saves on this device (runs when they
// end, the user's own images, the curves kept on the charts) and everything
// that leaves it (checkpoints, ONNX, metrics as CSV and JSON, the charts as
// PNG). main.js calls in at the moments that matter (a run ended, the
// images changed, a kept curve came or went); the panels are
// saved-runs.js and checkpoint-eval.js, the storage run-store.js.

import { SavedRuns, savedUrl, savedId } from './saved-runs.js';
import { CheckpointEval } from './checkpoint-eval.js';
import { metricsCsv, metricsJson } from './metrics-export.js';
import { chartsPng } from './chart-png.js';
import { fileName, saveBytes } from './download.js';

const datasetName = (url) => String(url).split('/').at(-1).split(':')[0].replace(/\.ftld(\.gz)?$/, '');

// Saved runs may share a name: in one file, those get their number too.
function distinctNames(records) {
  const count = (name) => records.filter((r) => r.name === name).length;
  return records.map((r) => ({ name: count(r.name) > 1 ? `${r.name} (${r.id})` : r.name, rows: r.rows }));
}

export class Keeping {
  // `page`: {worker, charts, status, form, runs() → the configured run specs,
  // ownDataset(imageForm) → the url of the user's images in that form (sent
  // to the worker), restoreKept(kept), describeRun(spec) → label}.
  constructor(page) {
    this.page = page;
    this.basesSent = new Set(); // saved-model urls the current worker holds
    this.saved = new SavedRuns(document.querySelector('[data-testid="saved"]'), {
      show: (record) => this.show(record),
      startFrom: (record) => this.startFrom(record),
      evaluate: (record) => this.evaluator.open(record),
      download: async (record) => saveBytes(fileName([record.name], 'ftlc'), await this.saved.model(record.id)),
      onnx: (record) => this.report(this.onnx(record.name, this.saved.model(record.id))),
      safetensors: (record) => this.report(this.safetensors(record.name, this.saved.model(record.id))),
      csvAll: (records) => this.saveText(fileName(['saved-runs', 'metrics'], 'csv'), metricsCsv(distinctNames(records)), 'text/csv'),
      csv: (record) => this.saveText(fileName([record.name, 'metrics'], 'csv'), metricsCsv([{ name: record.name, rows: record.rows }]), 'text/csv'),
      json: (record) => this.saveText(fileName([record.name, 'metrics'], 'json'), metricsJson([record]), 'application/json'),
      inspect: async (name, bytes) => (await page.worker.request('inspectCheckpoint', { name, bytes })).info,
      changed: (runs) => this.offerAsBases(runs),
      cleared: () => page.cleared(),
    });
    this.evaluator = new CheckpointEval(document.querySelector('[data-testid="checkpoint-eval"]'), page.form.elements.dataset, (request) => this.evaluate(request));
  }

  open() {
    return this.saved.open();
  }

  // A new worker holds none of the saved models yet.
  workerReplaced() {
    this.basesSent.clear();
  }

  report(promise) {
    return Promise.resolve(promise).catch((err) => this.page.status.message(`${err.code || 'Error'}: ${err.message}`, { error: true }));
  }

  saveText(name, text, type) {
    saveBytes(name, new TextEncoder().encode(text), `${type};charset=utf-8`);
  }

  // ---- Saving runs ---------------------------------------------------------------

  // The runs that just ended (`ended`: the worker's [{name, status, test}]),
  // each with its model, curves and numbers; `state` 'done' or 'diverged'.
  async saveEnded(ended, state) {
    if (!this.saved.available) return;
    const specs = this.page.runs();
    const entries = [];
    for (const [index, spec] of specs.entries()) {
      const run = ended.find((r) => r.name === spec.name);
      let reply;
      try {
        reply = await this.page.worker.request('checkpoint', { run: spec.name });
      } catch {
        return; // the runs were replaced meanwhile (a new Train): they are no longer these
      }
      const rows = this.page.charts.rowsOf(index).map((r) => ({ ...r, at: { ...r.at } }));
      const last = (kind, field) => rows.filter((r) => r.kind === kind).map((r) => r[field]).at(-1) ?? null;
      const status = run ? run.status : null;
      entries.push({
        model: reply.bytes,
        record: {
          kind: 'trained',
          name: `${spec.name === 'run' ? 'run' : spec.name} · ${datasetName(spec.datasetUrl)}`,
          savedAt: new Date().toISOString(),
          detail: this.page.describeRun(spec),
          spec,
          info: reply.info,
          rows,
          final: {
            state,
            valAcc: last('val', 'acc'),
            trainLoss: last('train', 'loss'),
            testAcc: run && run.test ? run.test.acc : null,
            step: status ? status.step : null,
            totalSteps: status ? status.total_steps : null,
          },
        },
      });
    }
    await this.saved.save(entries);
  }

  // ---- Saved models as bases -----------------------------------------------------

  // Every saved model is a choice in "Start from", under its own heading.
  offerAsBases(runs) {
    const select = this.page.form.elements.startFrom;
    const chosen = select.value;
    select.querySelector('optgroup.saved-bases')?.remove();
    if (runs.length) {
      const group = Object.assign(document.createElement('optgroup'), { label: 'Your saved models', className: 'saved-bases' });
      group.append(...runs.slice().reverse().map((r) => new Option(`${r.name} (saved)`, savedUrl(r.id))));
      select.append(group);
    }
    // A chosen model that was deleted falls back to training from scratch.
    select.value = [...select.options].some((o) => o.value === chosen) ? chosen : '';
  }

  // Runs that start from a saved model get it sent to the worker first.
  async prepareBases(specs) {
    for (const spec of specs) {
      const url = spec.base && spec.base.url;
      if (savedId(url) !== null) await this.sendModel(url);
    }
  }

  async sendModel(url) {
    if (this.basesSent.has(url)) return;
    const id = savedId(url);
    const record = this.saved.record(id);
    const bytes = await this.saved.model(id);
    if (!record || !bytes) throw Object.assign(new Error(`the saved model ${url} is gone (deleted?)`), { code: 'CheckpointError' });
    await this.page.worker.request('addCheckpoint', { url, name: record.name, bytes });
    this.basesSent.add(url);
  }

  // The form of the user's images a base takes: a shipped base takes 28×28
  // greyscale, a saved model what it was trained on.
  baseForm(url) {
    const record = this.saved.record(savedId(url));
    return record && record.info && record.info.input[0] === 3 ? 'rgb32' : 'grey28';
  }

  // "Train from it": free training from the saved model on its own dataset
  // when the page has it; its head is kept when the classes match.
  startFrom(record) {
    const f = this.page.form.elements;
    f.experiment.value = 'free';
    f.experiment.dispatchEvent(new Event('change', { bubbles: true }));
    const dataset = record.spec ? record.spec.datasetUrl.split(':')[0] : null;
    if (dataset && [...f.dataset.options].some((o) => o.value === dataset)) {
      f.dataset.value = dataset;
      f.dataset.dispatchEvent(new Event('change', { bubbles: true }));
    }
    f.startFrom.value = savedUrl(record.id);
    f.startFrom.dispatchEvent(new Event('change', { bubbles: true }));
    this.page.status.message(`The next run starts from “${record.name}” (Start from): press Train. Its head is kept when the dataset has its classes, so it continues training; otherwise it gets a new head.`);
  }

  // ---- Showing and measuring -----------------------------------------------------

  show(record) {
    this.page.showSaved(record);
  }

  async evaluate({ record, datasetUrl, split }) {
    const url = savedUrl(record.id);
    await this.sendModel(url);
    const [channels] = record.info.input;
    const dataset = datasetUrl === 'own' ? await this.page.ownDataset(channels === 1 ? 'grey28' : 'rgb32') : datasetUrl;
    return (await this.page.worker.request('evaluate', { datasetUrl: dataset, checkpointUrl: url, name: record.name, split })).report;
  }

  // ---- Taking the current runs away ----------------------------------------------

  async onnx(name, bytesPromise) {
    const bytes = await bytesPromise;
    const { bytes: onnx } = await this.page.worker.request('exportOnnx', { name, bytes });
    saveBytes(fileName([name], 'onnx'), onnx);
    this.page.status.message(`Saved “${name}” as an ONNX model: it runs in ONNX Runtime (input: pixels / 255, N×C×H×W).`);
  }

  async safetensors(name, bytesPromise) {
    const { bytes } = await this.page.worker.request('exportSafetensors', { name, bytes: await bytesPromise });
    saveBytes(fileName([name], 'safetensors'), bytes);
    this.page.status.message(`Saved “${name}”’s weights as safetensors, under PyTorch’s names (the README shows the five lines that load them).`);
  }

  currentRuns() {
    return this.page.runs().map((spec, index) => ({ name: spec.name, spec, rows: this.page.charts.rowsOf(index), final: this.page.final(spec.name) }));
  }

  exportCsv() {
    const runs = this.currentRuns();
    this.saveText(fileName([...runs.map((r) => r.name), datasetName(runs[0].spec.datasetUrl), 'metrics'], 'csv'), metricsCsv(runs), 'text/csv');
  }

  exportJson() {
    const runs = this.currentRuns();
    this.saveText(fileName([...runs.map((r) => r.name), datasetName(runs[0].spec.datasetUrl), 'metrics'], 'json'), metricsJson(runs), 'application/json');
  }

  async exportPng() {
    const runs = this.currentRuns();
    const title = `Fine-Tune Lab · ${runs.map((r) => r.name).join(' vs ')} · ${datasetName(runs[0].spec.datasetUrl)}`;
    const blob = await chartsPng(title, this.page.charts.pictures());
    saveBytes(fileName([...runs.map((r) => r.name), datasetName(runs[0].spec.datasetUrl), 'charts'], 'png'), blob, 'image/png');
  }

  exportOnnx() {
    const spec = this.page.runs()[0];
    const bytes = this.page.worker.request('checkpoint', { run: spec.name }).then((reply) => reply.bytes);
    return this.report(this.onnx(`${spec.name} ${datasetName(spec.datasetUrl)}`, bytes));
  }

  // ---- Page state across reloads --------------------------------------------------

  saveImages(state) {
    return this.saved.savePage('images', state.classes.length ? state : null, 'your images');
  }

  async loadImages() {
    return (await this.saved.loadPage('images', 'The record of your images')).value || null;
  }

  keepImagesSafe() {
    return this.saved.keepSafe();
  }

  saveKept(kept, curves) {
    return this.saved.savePage('kept', kept.length ? { kept, curves } : null, 'the curves kept on the charts');
  }

  async loadKept() {
    return (await this.saved.loadPage('kept', 'The record of the curves kept on the charts')).value || null;
  }
}
