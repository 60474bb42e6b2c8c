// The "Evaluate" panel: a saved or uploaded model measured on a dataset
// split the user picks: overall accuracy and loss, per-class accuracy bars
// and the confusion matrix (rows: true class, columns: predicted; shaded by
// the share of the row). The numbers are the core's (the same function as
// `finetune-lab eval`).

const pct = (x) => (Number.isNaN(x) || x == null ? '–' : `${(100 * x).toFixed(1)} %`);

export class CheckpointEval {
  // `evaluate({record, datasetUrl, split})` → the core's report.
  constructor(root, datasetSelect, evaluate) {
    this.root = root;
    this.evaluate = evaluate;
    this.datasetSelect = datasetSelect;
    this.title = root.querySelector('.eval-title');
    this.dataset = root.querySelector('[data-testid="eval-dataset"]');
    this.split = root.querySelector('[data-testid="eval-split"]');
    this.result = root.querySelector('[data-testid="eval-result"]');
    this.record = null;
    root.querySelector('[data-testid="eval-run"]').addEventListener('click', () => this.run());
    root.querySelector('.eval-close').addEventListener('click', () => {
      root.hidden = true;
      this.record = null;
    });
  }

  // Opens the panel for `record`, on the dataset it was trained on when the page has it.
  open(record) {
    this.record = record;
    this.title.textContent = `Evaluate “${record.name}”`;
    this.dataset.replaceChildren(...[...this.datasetSelect.options].map((o) => new Option(o.textContent, o.value)));
    const source = record.info ? record.info.meta.source_dataset : '';
    const match = [...this.dataset.options].find((o) => o.value.split('/').at(-1) === source || (source.startsWith('your images') && o.value === 'own'));
    if (match) this.dataset.value = match.value;
    this.result.replaceChildren();
    this.root.hidden = false;
    this.root.scrollIntoView({ block: 'nearest' });
  }

  async run() {
    if (!this.record) return;
    const record = this.record;
    this.result.replaceChildren(Object.assign(document.createElement('p'), { textContent: 'Measuring…' }));
    try {
      const report = await this.evaluate({ record, datasetUrl: this.dataset.value, split: this.split.value });
      if (this.record === record) this.show(report);
    } catch (err) {
      const p = Object.assign(document.createElement('p'), { className: 'error', textContent: `${err.code || 'Error'}: ${err.message}` });
      this.result.replaceChildren(p);
    }
  }

  show(report) {
    const images = report.per_class.reduce((n, c) => n + c.images, 0);
    const summary = document.createElement('p');
    summary.setAttribute('data-testid', 'eval-summary');
    summary.dataset.acc = String(report.acc);
    summary.dataset.loss = String(report.loss);
    summary.textContent = `Accuracy ${pct(report.acc)} on ${images.toLocaleString('en-US')} ${this.split.value} images · loss ${report.loss.toFixed(4)}`;
    const bars = document.createElement('ul');
    bars.className = 'eval-bars';
    bars.setAttribute('data-testid', 'eval-per-class');
    for (const c of report.per_class) {
      const li = document.createElement('li');
      li.dataset.acc = String(c.acc);
      const label = Object.assign(document.createElement('span'), { textContent: c.class });
      const bar = document.createElement('span');
      bar.className = 'eval-bar';
      const fill = document.createElement('span');
      fill.style.width = `${Number.isNaN(c.acc) ? 0 : 100 * c.acc}%`;
      bar.append(fill);
      const value = Object.assign(document.createElement('span'), { textContent: `${pct(c.acc)} of ${c.images}` });
      li.append(label, bar, value);
      bars.append(li);
    }
    this.result.replaceChildren(summary, bars, confusionTable(report));
  }
}

function confusionTable(report) {
  const names = report.per_class.map((c) => c.class);
  const table = document.createElement('table');
  table.className = 'confusion';
  table.setAttribute('data-testid', 'eval-confusion');
  const caption = Object.assign(document.createElement('caption'), { textContent: 'Confusion matrix: rows are the true class, columns what the model predicted' });
  const head = document.createElement('tr');
  head.append(Object.assign(document.createElement('th'), { textContent: 'true ↓ / predicted →' }), ...names.map((n) => Object.assign(document.createElement('th'), { textContent: n, scope: 'col' })));
  table.append(caption, head);
  report.confusion.forEach((row, t) => {
    const tr = document.createElement('tr');
    tr.append(Object.assign(document.createElement('th'), { textContent: names[t], scope: 'row' }));
    const total = row.reduce((a, b) => a + b, 0) || 1;
    row.forEach((count, p) => {
      const td = Object.assign(document.createElement('td'), { textContent: String(count) });
      const share = count / total;
      // Right answers in blue, mistakes in orange, darker for a larger share of the row.
      td.style.background = count ? (t === p ? `rgba(36, 87, 197, ${0.12 + 0.6 * share})` : `rgba(194, 65, 12, ${0.12 + 0.6 * share})`) : '';
      if (share > 0.55) td.style.color = '#fff';
      tr.append(td);
    });
    table.append(tr);
  });
  return table;
}
