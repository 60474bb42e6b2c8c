// "Saved on this device": the runs the user trained (saved when they end)
// and the checkpoints they uploaded, kept in IndexedDB (run-store.js) so a
// reload brings them back. Each can be renamed, shown on the charts, used as
// the start of a new run, evaluated, exported (.ftlc, ONNX, CSV, JSON) or
// deleted; "Clear everything" empties the store. The panel also says how
// much the page keeps, and a full quota is a message that keeps what was
// there. What each action does with the run is the page's (callbacks).

import { RunStore, storageUse, askToPersist } from './run-store.js';

// A saved model used as a base has this URL in the form and the worker.
export const SAVED_PREFIX = 'saved:';
export const savedUrl = (id) => `${SAVED_PREFIX}${id}`;
export const savedId = (url) => (String(url).startsWith(SAVED_PREFIX) ? Number(String(url).slice(SAVED_PREFIX.length)) : null);

const mb = (bytes) => (bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1e3))} KB`);
const when = (iso) => new Date(iso).toLocaleString('en-GB', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
const shown = (x) => (x == null || Number.isNaN(x) ? '–' : Number(x).toFixed(4));

// A button that asks once more before it acts: the first press arms it for a few seconds.
function confirmingButton(text, armedText, testid, action) {
  const button = Object.assign(document.createElement('button'), { type: 'button', textContent: text });
  if (testid) button.setAttribute('data-testid', testid);
  let timer = null;
  button.addEventListener('click', () => {
    if (!timer) {
      button.textContent = armedText;
      button.classList.add('armed');
      timer = setTimeout(() => {
        timer = null;
        button.textContent = text;
        button.classList.remove('armed');
      }, 4000);
      return;
    }
    clearTimeout(timer);
    timer = null;
    button.textContent = text;
    button.classList.remove('armed');
    action();
  });
  return button;
}

export class SavedRuns {
  // `actions`: {show, startFrom, evaluate, download, onnx, safetensors, csv, csvAll, json, inspect, changed, cleared}
  // (inspect(name, bytes) → checkpoint info or a thrown CheckpointError;
  // changed(runs) after the list changes, e.g. for the form's "Start from").
  constructor(root, actions) {
    this.root = root;
    this.actions = actions;
    this.list = root.querySelector('[data-testid="saved-runs"]');
    this.used = root.querySelector('[data-testid="storage-used"]');
    this.messageLine = root.querySelector('[data-testid="saved-message"]');
    this.runs = [];
    this.store = null;
    const upload = root.querySelector('[data-testid="upload-checkpoint"]');
    upload.addEventListener('change', async () => {
      const [file] = upload.files;
      upload.value = '';
      if (file) await this.upload(file);
    });
    root.querySelector('[data-testid="saved-csv-all"]').addEventListener('click', () => actions.csvAll(this.runs.filter((r) => r.rows.length)));
    root.querySelector('.saved-clear').replaceWith(confirmingButton('Clear everything', 'Delete every saved run and image?', 'clear-storage', () => this.clearAll()));
  }

  // Opens the store and lists what it holds; problems with old or future
  // records are shown, the rest still loads.
  async open() {
    this.store = await RunStore.open();
    if (!this.store) {
      this.message('This browser keeps nothing for this page (storage is off or refused): runs are not saved across reloads.', true);
      this.render();
      return;
    }
    for (const problem of await this.refresh()) this.unreadable(problem);
  }

  // A kept record this page cannot read: listed (all of them, not only the last) and left alone.
  unreadable(problem) {
    const li = Object.assign(document.createElement('li'), { textContent: `${problem}.` });
    this.root.querySelector('[data-testid="saved-problems"]').append(li);
  }

  get available() {
    return this.store !== null;
  }

  async refresh() {
    const { runs, problems } = await this.store.listRuns();
    this.runs = runs;
    this.render();
    this.actions.changed(this.runs);
    await this.showUse();
    return problems;
  }

  record(id) {
    return this.runs.find((r) => r.id === id) || null;
  }

  model(id) {
    return this.store.model(id);
  }

  // Saves runs that ended ([{record, model}]): each in its own transaction,
  // so a full quota keeps the ones before it. Returns how many were saved.
  async save(entries) {
    if (!this.store) return 0;
    let saved = 0;
    try {
      for (const { record, model } of entries) {
        await this.store.saveRun(record, model);
        saved += 1;
      }
      if (saved) this.message(`Saved ${saved === 1 ? `“${entries[0].record.name}”` : `${saved} runs`} on this device: they are here after a reload.`);
    } catch (err) {
      this.message(err.message, true);
    }
    await this.refresh();
    return saved;
  }

  // A checkpoint file the user brings: checked by the core first; a bad
  // file is named and nothing changes.
  async upload(file) {
    if (!this.store) return this.message('This browser keeps nothing for this page, so an uploaded checkpoint cannot be kept.', true);
    const bytes = new Uint8Array(await file.arrayBuffer());
    let info;
    try {
      info = await this.actions.inspect(file.name, bytes);
    } catch (err) {
      return this.message(`${file.name}: ${err.code || 'Error'}: ${err.message}. Nothing was changed.`, true);
    }
    const { meta } = info;
    const record = {
      kind: 'uploaded',
      name: file.name.replace(/\.ftlc$/i, ''),
      savedAt: new Date().toISOString(),
      detail: `uploaded · ${info.layers.filter((l) => l === 'conv2d' || l === 'dense').length} weight layers, ${info.param_count.toLocaleString('en-US')} parameters · trained on ${meta.source_dataset} (${meta.classes.length} classes)`,
      info,
      final: { testAcc: meta.test_acc },
      rows: [],
      spec: null,
    };
    try {
      await this.store.saveRun(record, bytes);
      this.message(`Uploaded “${record.name}”: evaluate it, or train from it (it is in “Start from” too).`);
    } catch (err) {
      this.message(err.message, true);
    }
    await this.refresh();
  }

  async rename(id, name) {
    const clean = name.trim().slice(0, 120);
    if (!clean) return;
    try {
      await this.store.renameRun(id, clean);
    } catch (err) {
      this.message(err.message, true);
    }
    await this.refresh();
  }

  async remove(id) {
    const record = this.record(id);
    await this.store.deleteRun(id);
    this.message(`Deleted “${record ? record.name : id}”.`);
    await this.refresh();
  }

  async clearAll() {
    if (!this.store) return;
    await this.store.clear();
    this.root.querySelector('[data-testid="saved-problems"]').replaceChildren();
    this.message('Cleared: nothing of this page is kept on this device now.');
    this.actions.cleared();
    await this.refresh();
  }

  // The user's own images or the kept curves, across reloads (see run-store.js).
  async savePage(key, value, what) {
    if (!this.store) return;
    try {
      await this.store.savePage(key, value, what);
    } catch (err) {
      this.message(err.message, true);
    }
    await this.showUse();
  }

  async loadPage(key, what) {
    if (!this.store) return {};
    const loaded = await this.store.loadPage(key, what);
    if (loaded.problem) this.unreadable(loaded.problem);
    return loaded;
  }

  // Keeping a dataset is when losing it would hurt: ask the browser not to evict.
  async keepSafe() {
    await askToPersist();
    await this.showUse();
  }

  async showUse() {
    const use = this.store ? await storageUse() : null;
    this.used.textContent = use
      ? `This page keeps ${mb(use.usage)} on this device (the browser allows ${mb(use.quota)}; ${use.persisted ? 'kept until you clear it' : 'the browser may clear it when space is short'}).`
      : 'Nothing is kept on this device.';
  }

  message(text, error = false) {
    this.messageLine.textContent = text;
    this.messageLine.classList.toggle('error', error);
  }

  render() {
    this.list.replaceChildren(...this.runs.slice().reverse().map((record) => this.row(record)));
    this.root.querySelector('.saved-empty').hidden = this.runs.length > 0;
    this.root.querySelector('[data-testid="saved-csv-all"]').disabled = !this.runs.some((r) => r.rows.length);
  }

  row(record) {
    const li = document.createElement('li');
    li.setAttribute('data-testid', 'saved-run');
    li.dataset.id = String(record.id);
    li.dataset.kind = record.kind;
    const name = Object.assign(document.createElement('span'), { className: 'saved-name', textContent: record.name });
    name.setAttribute('data-testid', 'saved-run-name');
    const detail = Object.assign(document.createElement('span'), { className: 'run-detail', textContent: `${record.detail} · ${when(record.savedAt)} · ${mb(record.bytes || 0)}` });
    const f = record.final || {};
    const numbers = Object.assign(document.createElement('span'), {
      className: 'saved-numbers',
      textContent: record.kind === 'uploaded' ? `recorded test ${shown(f.testAcc)}` : `validation ${shown(f.valAcc)} · test ${shown(f.testAcc)}${f.state === 'diverged' ? ' · diverged' : ''}`,
    });
    numbers.setAttribute('data-testid', 'saved-run-numbers');
    const buttons = document.createElement('span');
    buttons.className = 'saved-actions';
    const act = (text, testid, action, title) => {
      const b = Object.assign(document.createElement('button'), { type: 'button', textContent: text, title: title || '' });
      b.setAttribute('data-testid', testid);
      b.addEventListener('click', () => action(record));
      buttons.append(b);
    };
    if (record.rows.length) act('Show on charts', 'saved-show', this.actions.show, 'Draw its validation curve on the charts, as a kept run');
    act('Train from it', 'saved-start', this.actions.startFrom, 'Use its model as the starting point of the next run (its head is kept when the dataset has its classes)');
    act('Evaluate', 'saved-evaluate', this.actions.evaluate, 'Measure it on a dataset: overall, per class, confusion matrix');
    act('.ftlc', 'saved-download', this.actions.download, 'Download its checkpoint file');
    act('ONNX', 'saved-onnx', this.actions.onnx, 'Download it as an ONNX model');
    act('safetensors', 'saved-safetensors', this.actions.safetensors, 'Its weights under PyTorch’s names (conv1.weight, …), for load_state_dict');
    if (record.rows.length) {
      act('CSV', 'saved-csv', this.actions.csv, 'Its training and validation points as CSV');
      act('JSON', 'saved-json', this.actions.json, 'Its points and configuration as JSON');
    }
    act('Rename', 'saved-rename', () => this.startRename(li, record));
    buttons.append(confirmingButton('Delete', 'Delete for good?', 'saved-delete', () => this.remove(record.id)));
    li.append(name, numbers, detail, buttons);
    return li;
  }

  // The name becomes a text box: Enter keeps the new name, Escape the old one.
  startRename(li, record) {
    const name = li.querySelector('.saved-name');
    const input = Object.assign(document.createElement('input'), { type: 'text', value: record.name, maxLength: 120, className: 'saved-rename' });
    input.setAttribute('data-testid', 'saved-rename-input');
    input.setAttribute('aria-label', 'New name');
    let finished = false;
    const finish = (keep) => {
      if (finished) return;
      finished = true;
      if (keep) this.rename(record.id, input.value);
      else this.render();
    };
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') finish(true);
      if (e.key === 'Escape') finish(false);
    });
    input.addEventListener('blur', () => finish(true));
    name.replaceWith(input);
    input.focus();
    input.select();
  }
}
