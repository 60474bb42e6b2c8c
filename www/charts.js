// Live loss and accuracy charts (uPlot): for every run, its training curve
// (thin) and validation curve (thick, with points), so several runs overlay
// on the same axes. Runs the user keeps ("Keep on charts") stay as grey
// dashed validation curves under whatever trains next, for comparison. The
// x-axis is epochs, training examples seen, or seconds of the run's own work
// (the user picks). Redraws are throttled to one animation frame so a burst
// of progress messages never blocks the main thread.

import uPlot from './vendor/uPlot.esm.js';

// [validation, training] colour per run, in run order: styles.css sets them
// per colour scheme (--run-N-val, --run-N-train); these are the fallbacks.
const PALETTE = [
  ['#2457c5', '#93acdf'],
  ['#c2410c', '#f0a77a'],
  ['#15803d', '#86c59c'],
  ['#7e22ce', '#c9a2e8'],
  ['#b45309', '#e8b77a'],
  ['#0e7490', '#7cc4d4'],
  ['#be185d', '#e89cc0'],
  ['#4d7c0f', '#a9c97a'],
];
// Kept runs: quiet, told apart by dash pattern.
const KEPT_STROKES = ['#6b7280', '#9ca3af', '#4b5563', '#b0b6bf', '#374151', '#c4c9d0'];
const KEPT_DASHES = [[2, 3], [8, 4], [4, 2, 1, 2], [12, 3], [1, 3], [6, 6]];
export const MAX_KEPT = KEPT_STROKES.length;

// The charts draw on a canvas, where CSS does not reach: their colours are
// read from styles.css's variables each time a chart is built, and the
// charts are rebuilt when the colour scheme changes.
function theme() {
  const css = getComputedStyle(document.documentElement);
  const v = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  return {
    ink: v('--chart-ink', '#1f2328'),
    grid: v('--chart-grid', 'rgba(0,0,0,0.07)'),
    palette: PALETTE.map(([val, train], i) => [v(`--run-${i + 1}-val`, val), v(`--run-${i + 1}-train`, train)]),
    kept: KEPT_STROKES.map((stroke, i) => v(`--kept-${i + 1}`, stroke)),
  };
}

const X_AXES = {
  epoch: { label: 'epoch', field: 'epoch', digits: 2 },
  examples: { label: 'training examples seen', field: 'examples_seen', digits: 0 },
  seconds: { label: 'seconds of training', field: 'seconds', digits: 1 },
};

// `withSource` adds a dashed series per run for the forgetting meter's source-task accuracy.
function makeChart(container, yLabel, yRange, runNames, withSource, kept, xAxis) {
  const { label: xLabel, digits } = X_AXES[xAxis];
  const colours = theme();
  const series = [{ label: xLabel, value: (u, v) => (v == null ? '–' : v.toFixed(digits)) }];
  runNames.forEach((name, i) => {
    const [val, train] = colours.palette[i % PALETTE.length];
    const prefix = runNames.length > 1 ? `${name} ` : '';
    series.push({ label: `${prefix}training`, stroke: train, width: 1.5, spanGaps: true, points: { show: false } });
    series.push({ label: `${prefix}validation`, stroke: val, width: 2, spanGaps: true, points: { size: 5 } });
    if (withSource) series.push({ label: `${prefix}source task`, stroke: val, width: 2, dash: [6, 4], spanGaps: true, points: { show: false } });
  });
  kept.forEach((run, i) => {
    series.push({ label: `kept ${i + 1}`, stroke: colours.kept[i], width: 1.5, dash: KEPT_DASHES[i], spanGaps: true, points: { show: false } });
  });
  const opts = {
    width: Math.max(container.clientWidth, 200),
    height: 240,
    scales: { x: { time: false }, y: yRange ? { range: yRange } : {} },
    axes: [xLabel, yLabel].map((label, i) => ({
      label,
      size: i ? 50 : 36,
      stroke: colours.ink,
      grid: { stroke: colours.grid, width: 1 },
      ticks: { stroke: colours.grid, width: 1 },
    })),
    series,
    legend: { live: true },
  };
  return new uPlot(opts, series.map(() => []), container);
}

export class Charts {
  constructor(lossContainer, accContainer) {
    this.containers = [lossContainer, accContainer];
    this.runNames = [];
    this.kept = []; // [{label, rows}] validation points of runs kept for comparison
    this.xAxis = 'epoch';
    this.setRuns(['run']);
    this.warmUp();
    new ResizeObserver(() => this.resize()).observe(lossContainer.parentElement.parentElement);
    window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => this.build());
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
    this.runNames = names;
    this.source = source;
    this.rows = []; // {at: {epoch, examples_seen, seconds}, run, kind: 'train'|'val'|'source', loss, acc}
    this.build();
  }

  build() {
    if (this.loss) {
      this.loss.destroy();
      this.acc.destroy();
    }
    this.loss = makeChart(this.containers[0], 'loss', null, this.runNames, false, this.kept, this.xAxis);
    this.acc = makeChart(this.containers[1], 'accuracy', [0, 1], this.runNames, this.source, this.kept, this.xAxis);
    this.describe();
    this.pending = false;
    this.scheduleDraw();
  }

  // The charts' text alternative in brief (role="img" on each container);
  // the numbers themselves are in the table under the charts.
  describe() {
    const against = `against ${X_AXES[this.xAxis].label}`;
    const runs = this.runNames.length > 1 ? `${this.runNames.length} runs (${this.runNames.join(', ')})` : 'the current run';
    const kept = this.kept.length ? `, and ${this.kept.length} kept run${this.kept.length > 1 ? 's' : ''} for comparison` : '';
    const rest = `for ${runs}${kept}. The latest numbers are in the table “The charts in numbers” below.`;
    this.containers[0].setAttribute('aria-label', `Loss chart: training and validation cross-entropy ${against}, ${rest}`);
    this.containers[1].setAttribute('aria-label', `Accuracy chart: training and validation accuracy ${against}${this.source ? ', and source-task accuracy' : ''}, ${rest}`);
  }

  // 'epoch' | 'examples' | 'seconds': the same points, re-plotted.
  setXAxis(kind) {
    if (!X_AXES[kind] || kind === this.xAxis) return;
    this.xAxis = kind;
    this.build(); // the containers' data-x-axis says so once the new axis is drawn
  }

  // Keeps the current runs' validation curves on the charts (labels[i] names run i);
  // the oldest kept runs make room when there are more than MAX_KEPT.
  // Returns the indices of the runs kept (a run with no validation point yet has nothing to keep).
  keepCurrent(labels) {
    const keptRuns = [];
    labels.forEach((label, run) => {
      const rows = this.rows.filter((r) => r.run === run && r.kind === 'val').map((r) => ({ ...r }));
      if (!rows.length) return;
      this.kept.push({ label, rows });
      keptRuns.push(run);
    });
    this.kept = this.kept.slice(-MAX_KEPT);
    this.build();
    return keptRuns;
  }

  removeKept(index) {
    this.kept.splice(index, 1);
    this.build();
  }

  // A saved run's validation points as a kept curve (the oldest make room).
  addKept(label, rows) {
    this.kept = this.kept.concat([{ label, rows: rows.filter((r) => r.kind === 'val') }]).slice(-MAX_KEPT);
    this.build();
  }

  // The kept curves ([{label, rows}]), to keep across a reload, and back.
  keptCurves() {
    return this.kept;
  }

  setKept(kept) {
    this.kept = kept.slice(-MAX_KEPT);
    this.build();
  }

  // The points of current run `index` as drawn, in arrival order (exports and saved runs).
  rowsOf(index) {
    return this.rows.filter((r) => r.run === index);
  }

  // The two charts, for a picture of them.
  pictures() {
    return [
      { caption: 'Loss (cross-entropy)', chart: this.loss },
      { caption: 'Accuracy', chart: this.acc },
    ];
  }

  // Draws a throwaway chart, off the page, while the page is idle: uPlot's
  // drawing code runs in V8's interpreter until it has run a while, and the
  // first real redraw after pressing Train took 40–70 ms on this kind of
  // machine (a visible stutter) instead of a few. One draw per idle
  // callback, the first ones small (cold code is slow in proportion to its
  // work), so the warm-up itself never blocks the page for long. The chart
  // containers say data-warm="done" when it is over.
  warmUp(sizes = [16, 48, 120, 240, 400, 400]) {
    const idle = window.requestIdleCallback || ((fn) => setTimeout(fn, 50));
    const box = document.createElement('div');
    box.style.width = `${Math.max(this.containers[0].clientWidth, 200)}px`;
    const chart = makeChart(box, 'loss', null, ['a', 'b'], true, [], 'epoch');
    const curve = (x, scale, phase) => x.map((t, i) => (i % 7 === phase ? null : scale * Math.exp(-t / 3) + 0.02 * Math.sin(9 * t)));
    const step = (i) => {
      if (i === sizes.length) {
        chart.destroy();
        for (const c of this.containers) c.dataset.warm = 'done';
        return;
      }
      const x = Array.from({ length: sizes[i] }, (_, j) => (10 * j) / sizes[i]);
      chart.setData([x, curve(x, 2, 0), curve(x, 1.8, 3), curve(x, 1, 1), curve(x, 2.2, 2), curve(x, 1.7, 4), curve(x, 1.1, 5)]);
      idle(() => step(i + 1), { timeout: 1000 });
    };
    idle(() => step(0), { timeout: 1000 });
  }

  resize() {
    this.loss.setSize({ width: Math.max(this.containers[0].clientWidth, 200), height: 240 });
    this.acc.setSize({ width: Math.max(this.containers[1].clientWidth, 200), height: 240 });
  }

  clear() {
    this.setRuns(this.runNames, { source: this.source });
  }

  // How many points the current runs have: a run restored from a resume
  // point (after its worker died) goes back to the mark taken with that
  // point, then trains the same steps again.
  mark() {
    return this.rows.length;
  }

  truncate(mark) {
    if (this.rows.length <= mark) return;
    this.rows.length = mark;
    this.scheduleDraw();
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

  // Draws both charts in the next animation frame, the frame that also shows
  // the status panel's new numbers: one frame (and one compositor commit) per
  // progress message. (The charts once drew in alternate frames, when a cold
  // first draw could take 30 ms; they are warmed up now, see warmUp, and the
  // commits were the page's largest main-thread cost while training.)
  scheduleDraw() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      const columns = this.columns();
      this.loss.setData(columns.loss);
      this.acc.setData(columns.acc);
      // What is drawn, for tests (and the curious): points, kept runs, x-axis.
      for (const c of this.containers) {
        c.dataset.points = String(columns.points);
        c.dataset.kept = String(this.kept.length);
        c.dataset.xAxis = this.xAxis;
      }
    });
  }

  // Both charts' data: x, then for every run its series, then the kept runs'.
  columns() {
    const field = X_AXES[this.xAxis].field;
    // Kept rows join as runs after the current ones (run index ≥ runNames.length).
    const keptRows = this.kept.flatMap((k, i) => k.rows.map((r) => ({ ...r, run: this.runNames.length + i })));
    // Stable sort keeps arrival order for equal x (a training point then its evaluation).
    const rows = this.rows.concat(keptRows).sort((a, b) => a.at[field] - b.at[field]);
    const x = rows.map((r) => r.at[field]);
    const columns = (value, kinds) => {
      const data = [x];
      this.runNames.forEach((_, run) => {
        for (const kind of kinds) data.push(rows.map((r) => (r.run === run && r.kind === kind ? r[value] : null)));
      });
      this.kept.forEach((_, i) => {
        const run = this.runNames.length + i;
        data.push(rows.map((r) => (r.run === run ? r[value] : null)));
      });
      return data;
    };
    return {
      loss: columns('loss', ['train', 'val']),
      acc: columns('acc', this.source ? ['train', 'val', 'source'] : ['train', 'val']),
      points: this.rows.length,
    };
  }
}
