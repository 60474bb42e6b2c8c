// Live loss and accuracy charts (uPlot): for every run, its training curve
// (thin) and validation curve (thick, with points), so several runs overlay
// on the same axes. The x-axis is epochs, training examples seen, or seconds
// of the run's own work (the user picks). Redraws are throttled to one animation frame
// so a burst of progress messages never blocks the main thread.

import uPlot from './vendor/uPlot.esm.js';

// [validation, training] colour per run, in run order.
const PALETTE = [
  ['#2457c5', '#93acdf'],
  ['#c2410c', '#f0a77a'],
  ['#15803d', '#86c59c'],
  ['#7e22ce', '#c9a2e8'],
];

// `withSource` adds a dashed series per run for the forgetting meter's source-task accuracy.
const X_AXES = {
  epoch: { label: 'epoch', field: 'epoch', digits: 2 },
  examples: { label: 'training examples seen', field: 'examples_seen', digits: 0 },
  seconds: { label: 'seconds of training', field: 'seconds', digits: 1 },
};

function makeChart(container, yLabel, yRange, runNames, withSource, xAxis) {
  const { label: xLabel, digits } = X_AXES[xAxis];
  const series = [{ label: xLabel, value: (u, v) => (v == null ? '–' : v.toFixed(digits)) }];
  runNames.forEach((name, i) => {
    const [val, train] = PALETTE[i % PALETTE.length];
    const prefix = runNames.length > 1 ? `${name} ` : '';
    series.push({ label: `${prefix}training`, stroke: train, width: 1.5, spanGaps: true, points: { show: false } });
    series.push({ label: `${prefix}validation`, stroke: val, width: 2, spanGaps: true, points: { size: 5 } });
    if (withSource) series.push({ label: `${prefix}source task`, stroke: val, width: 2, dash: [6, 4], spanGaps: true, points: { show: false } });
  });
  const opts = {
    width: Math.max(container.clientWidth, 200),
    height: 240,
    scales: { x: { time: false }, y: yRange ? { range: yRange } : {} },
    axes: [{ label: xLabel, size: 36 }, { label: yLabel, size: 50 }],
    series,
    legend: { live: true },
  };
  return new uPlot(opts, series.map(() => []), container);
}

export class Charts {
  constructor(lossContainer, accContainer) {
    this.containers = [lossContainer, accContainer];
    this.runNames = [];
    this.xAxis = 'epoch';
    this.setRuns(['run']);
    new ResizeObserver(() => this.resize()).observe(lossContainer.parentElement.parentElement);
  }

  // Starts empty charts with one training and one validation series per run.
  setRuns(names, { source = false } = {}) {
    const same = this.loss && this.source === source && names.length === this.runNames.length && names.every((n, i) => n === this.runNames[i]);
    if (same) {
      // Same series: empty them rather than rebuild both charts (a rebuild is a visible main-thread pause).
      this.rows = [];
      this.scheduleDraw();
      return;
    }
    if (this.loss) {
      this.loss.destroy();
      this.acc.destroy();
    }
    this.runNames = names;
    this.source = source;
    this.rows = []; // {at: {epoch, examples_seen, seconds}, run, kind: 'train'|'val'|'source', loss, acc}
    this.build();
  }

  build() {
    this.loss = makeChart(this.containers[0], 'loss', null, this.runNames, false, this.xAxis);
    this.acc = makeChart(this.containers[1], 'accuracy', [0, 1], this.runNames, this.source, this.xAxis);
    this.pending = false;
    this.scheduleDraw();
  }

  // 'epoch' | 'examples' | 'seconds': the same points, re-plotted.
  setXAxis(kind) {
    if (!X_AXES[kind] || kind === this.xAxis) return;
    this.xAxis = kind;
    this.loss.destroy();
    this.acc.destroy();
    this.build();
    for (const c of this.containers) c.dataset.xAxis = kind;
  }

  resize() {
    this.loss.setSize({ width: Math.max(this.containers[0].clientWidth, 200), height: 240 });
    this.acc.setSize({ width: Math.max(this.containers[1].clientWidth, 200), height: 240 });
  }

  clear() {
    this.setRuns(this.runNames, { source: this.source });
  }

  add(runName, windows, evals) {
    const run = Math.max(this.runNames.indexOf(runName), 0);
    const at = (p) => ({ epoch: p.epoch, examples_seen: p.examples_seen, seconds: p.seconds ?? 0 });
    for (const w of windows) this.rows.push({ at: at(w), run, kind: 'train', loss: w.loss, acc: w.acc });
    for (const e of evals) {
      this.rows.push({ at: at(e), run, kind: 'val', loss: e.val_loss, acc: e.val_acc });
      if (e.source_acc != null) this.rows.push({ at: at(e), run, kind: 'source', loss: null, acc: e.source_acc });
    }
    if (windows.length || evals.length) this.scheduleDraw();
  }

  scheduleDraw() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  draw() {
    // Stable sort keeps arrival order for equal x (a training point then its evaluation).
    const field = X_AXES[this.xAxis].field;
    const rows = this.rows.slice().sort((a, b) => a.at[field] - b.at[field]);
    const x = rows.map((r) => r.at[field]);
    const columns = (field, kinds) => {
      const data = [x];
      this.runNames.forEach((_, run) => {
        for (const kind of kinds) data.push(rows.map((r) => (r.run === run && r.kind === kind ? r[field] : null)));
      });
      return data;
    };
    this.loss.setData(columns('loss', ['train', 'val']));
    this.acc.setData(columns('acc', this.source ? ['train', 'val', 'source'] : ['train', 'val']));
    for (const c of this.containers) c.dataset.points = String(rows.length);
  }
}
