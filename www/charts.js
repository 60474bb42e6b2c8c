// Live loss and accuracy charts (uPlot): training curve vs validation curve,
// x = epochs. Redraws are throttled to one animation frame so a burst of
// progress messages never blocks the main thread.

import uPlot from './vendor/uPlot.esm.js';

const TRAIN_COLOR = '#d9730d';
const VAL_COLOR = '#2457c5';

function makeChart(container, yLabel, yRange) {
  const opts = {
    width: Math.max(container.clientWidth, 200),
    height: 240,
    scales: { x: { time: false }, y: yRange ? { range: yRange } : {} },
    axes: [{ label: 'epoch', size: 36 }, { label: yLabel, size: 50 }],
    series: [
      { label: 'epoch', value: (u, v) => (v == null ? '–' : v.toFixed(2)) },
      { label: 'training', stroke: TRAIN_COLOR, width: 1.5, spanGaps: true, points: { show: false } },
      { label: 'validation', stroke: VAL_COLOR, width: 2, spanGaps: true, points: { size: 5 } },
    ],
    legend: { live: true },
  };
  return new uPlot(opts, [[], [], []], container);
}

export class Charts {
  constructor(lossContainer, accContainer) {
    this.containers = [lossContainer, accContainer];
    this.loss = makeChart(lossContainer, 'loss');
    this.acc = makeChart(accContainer, 'accuracy', [0, 1]);
    this.rows = []; // {x, trainLoss, trainAcc, valLoss, valAcc}
    this.pending = false;
    new ResizeObserver(() => this.resize()).observe(lossContainer.parentElement.parentElement);
  }

  resize() {
    this.loss.setSize({ width: Math.max(this.containers[0].clientWidth, 200), height: 240 });
    this.acc.setSize({ width: Math.max(this.containers[1].clientWidth, 200), height: 240 });
  }

  clear() {
    this.rows = [];
    this.scheduleDraw();
  }

  addTraining(windows) {
    for (const w of windows) this.rows.push({ x: w.epoch, trainLoss: w.loss, trainAcc: w.acc, valLoss: null, valAcc: null });
    if (windows.length) this.scheduleDraw();
  }

  addValidation(evals) {
    for (const e of evals) this.rows.push({ x: e.epoch, trainLoss: null, trainAcc: null, valLoss: e.val_loss, valAcc: e.val_acc });
    if (evals.length) this.scheduleDraw();
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
    const rows = this.rows.slice().sort((a, b) => a.x - b.x);
    const x = rows.map((r) => r.x);
    this.loss.setData([x, rows.map((r) => r.trainLoss), rows.map((r) => r.valLoss)]);
    this.acc.setData([x, rows.map((r) => r.trainAcc), rows.map((r) => r.valAcc)]);
    for (const c of this.containers) c.dataset.points = String(rows.length);
  }
}
