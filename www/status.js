// The status line, the headline numbers, and the charts' numbers as a table.
//
// The status line (in the sticky action bar) changes with every progress
// message, several times a second while training, so it is not a live
// region: a screen reader would read it over and over. A visually hidden
// polite live region beside the numbers tells only what is worth hearing:
// messages (errors included), and a run's state when it changes (training,
// paused, done).

const fmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export class StatusPanel {
  constructor(root) {
    this.root = root;
    this.line = root.ownerDocument.querySelector('[data-testid="status"]');
    this.live = root.querySelector('[data-testid="status-live"]');
    this.table = root.ownerDocument.querySelector('[data-testid="chart-table"] tbody');
    this.announcedState = null;
    this.trainLoss = root.querySelector('[data-testid="train-loss"]');
    this.valAcc = root.querySelector('[data-testid="val-acc"]');
    this.testAcc = root.querySelector('[data-testid="test-acc"]');
    this.speed = root.querySelector('[data-testid="images-per-s"]');
    this.info = root.querySelector('[data-testid="run-info"]');
    this.runs = root.querySelector('[data-testid="runs"]');
  }

  // The runs list: one row per run with its latest validation and final test accuracy.
  setRuns(runs) {
    this.runs.replaceChildren(
      ...runs.map((run) => {
        const li = document.createElement('li');
        li.dataset.run = run.name;
        li.innerHTML =
          `<span class="run-name"></span><span class="run-detail"></span>` +
          `<span title="training accuracy over the batches since the previous evaluation">training <b data-testid="run-train-acc">–</b></span>` +
          `<span>validation <b data-testid="run-val-acc">–</b></span><span>test <b data-testid="run-test-acc">–</b></span>` +
          (run.base && run.base.sourceClasses ? `<span class="source">source task <b data-testid="run-source-acc">–</b></span>` : '');
        li.querySelector('.run-name').textContent = run.name;
        li.querySelector('.run-detail').textContent = run.detail;
        return li;
      }),
    );
    this.runs.hidden = runs.length < 2;
    this.table.replaceChildren(
      ...runs.map((run) => {
        const tr = document.createElement('tr');
        tr.dataset.run = run.name;
        const name = Object.assign(document.createElement('th'), { scope: 'row', textContent: run.name });
        tr.append(name, ...['step', 'train-loss', 'val-acc', 'test-acc'].map((key) => Object.assign(document.createElement('td'), { className: key, textContent: '–' })));
        return tr;
      }),
    );
  }

  // Called at evaluation points and when a run ends, never per frame: the
  // table (the charts' text alternative) changes only then.
  runMetrics(name, { trainAcc, valAcc, testAcc, sourceAcc, trainLoss, step }) {
    const cells = [...this.table.children].find((tr) => tr.dataset.run === name);
    if (cells) {
      const set = (key, text) => (cells.querySelector(`.${key}`).textContent = text);
      if (step != null) set('step', fmt.format(step));
      if (trainLoss != null) set('train-loss', trainLoss.toFixed(4));
      if (valAcc != null) set('val-acc', valAcc.toFixed(4));
      if (testAcc != null) set('test-acc', testAcc.toFixed(4));
    }
    const row = [...this.runs.children].find((li) => li.dataset.run === name);
    if (!row) return;
    const source = row.querySelector('[data-testid="run-source-acc"]');
    if (source && sourceAcc != null) {
      // "before → now": the first measurement is the untouched base.
      source.dataset.first ??= sourceAcc.toFixed(4);
      source.textContent = `${source.dataset.first} → ${sourceAcc.toFixed(4)}`;
    }
    if (trainAcc != null) row.querySelector('[data-testid="run-train-acc"]').textContent = trainAcc.toFixed(4);
    if (valAcc != null) row.querySelector('[data-testid="run-val-acc"]').textContent = valAcc.toFixed(4);
    if (testAcc != null) row.querySelector('[data-testid="run-test-acc"]').textContent = testAcc.toFixed(4);
  }

  // A note under one run's row (e.g. it diverged and stopped while the others train on).
  runNote(name, text) {
    const row = [...this.runs.children].find((li) => li.dataset.run === name);
    if (!row) return;
    let note = row.querySelector('.run-note');
    if (!note) {
      note = Object.assign(document.createElement('span'), { className: 'run-note' });
      note.setAttribute('data-testid', 'run-note');
      row.append(note);
    }
    note.textContent = text;
  }

  // The runs kept on the charts: label, final numbers, and a button to drop each.
  setKept(kept, onRemove) {
    this.kept ??= this.root.querySelector('[data-testid="kept-runs"]');
    this.kept.replaceChildren(
      ...kept.map((run, i) => {
        const li = document.createElement('li');
        li.className = 'kept';
        const name = Object.assign(document.createElement('span'), { className: 'run-name', textContent: `kept ${i + 1}` });
        const detail = Object.assign(document.createElement('span'), { className: 'run-detail', textContent: run.label });
        const numbers = (label, value) => Object.assign(document.createElement('span'), { textContent: `${label} ${value ?? '–'}` });
        const remove = Object.assign(document.createElement('button'), { type: 'button', className: 'kept-remove', textContent: '×', title: 'remove from the charts' });
        remove.setAttribute('aria-label', `Remove kept ${i + 1} from the charts`);
        remove.addEventListener('click', () => onRemove(i));
        li.append(name, detail, numbers('validation', run.valAcc), numbers('test', run.testAcc), remove);
        return li;
      }),
    );
    this.kept.hidden = kept.length === 0;
  }

  // The current runs' latest numbers, by run name: {valAcc, testAcc} as shown.
  shownNumbers(name) {
    const row = [...this.runs.children].find((li) => li.dataset.run === name);
    const text = (id) => (row ? row.querySelector(`[data-testid="${id}"]`).textContent : null);
    return row ? { valAcc: text('run-val-acc'), testAcc: text('run-test-acc') } : { valAcc: this.valAcc.textContent, testAcc: this.testAcc.textContent };
  }

  message(text, { error = false } = {}) {
    this.show(text, error);
    this.announce(text);
    this.announcedState = null; // the next progress says its state again
  }

  progress(status, state, imagesPerSec) {
    const epoch = `Epoch ${status.epoch.toFixed(2)} / ${status.epochs}`;
    const step = `step ${fmt.format(status.step)} / ${fmt.format(status.total_steps)}`;
    const speed = imagesPerSec > 0 ? ` · ${fmt.format(imagesPerSec)} images/s` : '';
    this.show(`${epoch} · ${step}${speed} · ${state}`, false);
    if (imagesPerSec > 0) this.speed.textContent = fmt.format(imagesPerSec);
    if (state !== this.announcedState) {
      this.announcedState = state;
      const test = state === 'done' && this.testAcc.textContent !== '–' ? `, test accuracy ${this.testAcc.textContent}` : '';
      this.announce(`${state[0].toUpperCase()}${state.slice(1)}: ${epoch}, ${step}${test}.`);
    }
  }

  show(text, error) {
    this.line.textContent = text;
    this.line.classList.toggle('error', error);
  }

  announce(text) {
    this.live.textContent = text;
  }

  metrics({ trainLoss, valAcc, testAcc }) {
    if (trainLoss !== undefined) this.trainLoss.textContent = trainLoss == null ? '–' : trainLoss.toFixed(4);
    if (valAcc !== undefined) this.valAcc.textContent = valAcc == null ? '–' : valAcc.toFixed(4);
    if (testAcc !== undefined) this.testAcc.textContent = testAcc == null ? '–' : testAcc.toFixed(4);
  }

  runInfo(text) {
    this.info.textContent = text;
  }

  clear() {
    this.metrics({ trainLoss: null, valAcc: null, testAcc: null });
    this.speed.textContent = '–';
    this.runInfo('');
    for (const td of this.table.querySelectorAll('td')) td.textContent = '–';
  }
}
