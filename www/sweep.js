// The data-economy chart: final test accuracy against labelled images per
// class (log axis), one series per approach, filled in as the sweep's runs end.

import uPlot from './vendor/uPlot.esm.js';

export const SWEEP_KS = [1, 2, 5, 10, 20, 50, 100, 200];
const COLORS = ['#2457c5', '#c2410c'];

export class SweepPanel {
  constructor(figure) {
    this.figure = figure;
    this.container = figure.querySelector('.chart');
    this.chart = null;
    this.points = []; // {k, accs: {runName: acc}}
  }

  // Shows an empty chart for these run names.
  reset(runNames) {
    this.figure.hidden = false;
    this.runNames = runNames;
    this.points = [];
    if (this.chart) this.chart.destroy();
    this.chart = new uPlot(
      {
        width: Math.max(this.container.clientWidth, 300),
        height: 240,
        scales: { x: { time: false, distr: 3 }, y: { range: [0, 1] } },
        axes: [{ label: 'labelled images per class (log scale)', size: 36 }, { label: 'test accuracy', size: 50 }],
        series: [{ label: 'K' }, ...runNames.map((name, i) => ({ label: name, stroke: COLORS[i % COLORS.length], width: 2, points: { size: 7 } }))],
      },
      [[], ...runNames.map(() => [])],
      this.container,
    );
    this.draw();
  }

  hide() {
    this.figure.hidden = true;
  }

  add(k, accs) {
    this.points.push({ k, accs });
    this.draw();
  }

  draw() {
    const points = this.points.slice().sort((a, b) => a.k - b.k);
    this.chart.setData([points.map((p) => p.k), ...this.runNames.map((name) => points.map((p) => p.accs[name] ?? null))]);
    this.container.dataset.points = String(points.length);
  }
}
