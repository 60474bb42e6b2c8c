// The "Evaluate" panel: a saved or uploaded model measured on a dataset
// split the user picks: overall accuracy and loss, per-class accuracy bars
// and the confusion matrix (rows: true class, columns: predicted; shaded by
// the share of the row). The numbers are the core's (the same function as
// `finetune-lab eval`).

import { accuracyView, pct } from './accuracy-view.js';

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
    this.result.replaceChildren(summary, ...accuracyView(report));
  }
}
