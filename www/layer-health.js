// Layer health over time, per run (the core measures it at every evaluation
// point: src/train/health.rs): one chart per run with a line per layer for
// the chosen measure — activation spread, dead ReLUs, gradient norm, or the
// update-to-weight ratio — and, under it, the latest distribution of every
// layer's outputs as a small histogram (TensorBoard's view of it). A
// vanishing signal shows as lines falling towards zero layer after layer.

import uPlot from './vendor/uPlot.esm.js';

export const MEASURES = {
  act_std: { label: 'activation std', log: true, applies: () => true },
  dead: { label: 'dead ReLUs (share)', log: false, applies: (l) => l.dead !== undefined },
  grad_norm: { label: 'gradient norm', log: true, applies: (l) => l.grad_norm !== undefined },
  update_ratio: { label: 'update / weight', log: true, applies: (l) => l.update_ratio !== undefined },
};
const COLOURS = ['#2457c5', '#c2410c', '#15803d', '#7e22ce', '#b45309', '#0e7490', '#be185d', '#4d7c0f', '#1d4ed8', '#9f1239'];

export class LayerHealth {
  constructor(root) {
    this.root = root;
    this.select = root.querySelector('[data-testid="health-measure"]');
    this.charts = root.querySelector('[data-testid="health-charts"]');
    this.records = new Map(); // run name → [record]
    this.select.addEventListener('change', () => this.redraw(true));
  }

  reset(names) {
    this.records = new Map(names.map((n) => [n, []]));
    this.redraw(true);
  }

  add(name, records) {
    if (!records || !records.length) return;
    if (!this.records.has(name)) this.records.set(name, []);
    this.records.get(name).push(...records);
    this.redraw(false);
  }

  // Drawn when the panel is open, at most once per animation frame.
  redraw(rebuild) {
    this.rebuild ||= rebuild;
    if (this.pending || !this.root.closest('details').open) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  draw() {
    const measure = this.select.value;
    const spec = MEASURES[measure];
    if (this.rebuild || !this.views) {
      this.rebuild = false;
      for (const view of this.views || []) view.chart.destroy();
      this.views = [...this.records].map(([name, records]) => this.view(name, records, measure, spec));
      this.charts.replaceChildren(...this.views.map((v) => v.box));
    }
    for (const view of this.views) {
      const records = this.records.get(view.name) || [];
      const data = [records.map((r) => r.epoch), ...view.layers.map((layer) => records.map((r) => this.value(r.layers[layer], measure, spec)))];
      view.chart.setData(data);
      view.box.dataset.points = String(records.length);
      this.histograms(view, records.at(-1));
    }
  }

  value(layer, measure, spec) {
    const v = layer ? layer[measure] : undefined;
    if (v === undefined || v === null) return null;
    return spec.log ? Math.max(v, 1e-12) : v; // a log axis has no zero
  }

  view(name, records, measure, spec) {
    const first = records[0];
    const layers = first ? first.layers.filter((l) => spec.applies(l)).map((l) => l.layer) : [];
    const box = document.createElement('figure');
    box.className = 'health-run';
    box.dataset.run = name;
    const caption = Object.assign(document.createElement('figcaption'), { textContent: `${name}: ${spec.label} per layer` });
    const plot = document.createElement('div');
    const names = first ? first.layers : [];
    const series = [{ label: 'epoch' }, ...layers.map((layer, i) => ({ label: `${layer} ${names[layer].name}`, stroke: COLOURS[i % COLOURS.length], width: 1.5, points: { size: 4 } }))];
    const chart = new uPlot(
      {
        width: Math.max(this.charts.clientWidth / Math.max(this.records.size, 1) - 16, 260),
        height: 180,
        scales: { x: { time: false }, y: spec.log ? { distr: 3 } : { range: [0, 1] } },
        axes: [{ label: 'epoch', size: 30 }, { label: spec.label, size: 56 }],
        series,
        legend: { live: false },
      },
      [[], ...layers.map(() => [])],
      plot,
    );
    const strip = document.createElement('div');
    strip.className = 'health-histograms';
    box.append(caption, plot, strip);
    return { name, box, chart, layers, strip };
  }

  // The latest output distribution of every layer: bars between its min and max.
  histograms(view, record) {
    if (!record) return view.strip.replaceChildren();
    view.strip.replaceChildren(
      ...record.layers.map((layer) => {
        const cell = document.createElement('figure');
        const canvas = Object.assign(document.createElement('canvas'), { width: 64, height: 28 });
        const ctx = canvas.getContext('2d');
        const top = Math.max(...layer.histogram.counts, 1);
        ctx.fillStyle = '#2457c5';
        layer.histogram.counts.forEach((c, i) => {
          const h = (27 * c) / top;
          ctx.fillRect(i * 4, 28 - h, 3, h);
        });
        const range = `${layer.histogram.min.toPrecision(2)} … ${layer.histogram.max.toPrecision(2)}`;
        canvas.setAttribute('role', 'img');
        canvas.setAttribute('aria-label', `layer ${layer.layer} ${layer.name}: outputs from ${range}`);
        const text = `${layer.layer} ${layer.name}${layer.dead !== undefined ? ` · ${Math.round(100 * layer.dead)} % dead` : ''}`;
        cell.append(canvas, Object.assign(document.createElement('figcaption'), { textContent: text, title: range }));
        return cell;
      }),
    );
  }
}
