// "Inside the network", for every run of the list, side by side:
// - the first layer's filters as pictures (a convolution's kernels, or each
//   first dense unit's incoming weights as an image), redrawn as it learns
//   (at most once a second, and only while the panel is open), a fine-tuned
//   run's beside its base's;
// - a drawing pad: draw a digit and see each run's class probabilities;
// - every layer's output for one test image or the drawing (activations-view.js);
// - layer health over time (layer-health.js);
// - a held-out split measured image by image: per-class accuracy, the
//   confusion matrix, and the images it gets wrong with what it said and
//   how sure it was (a cell of the matrix shows only its images).
// The worker does the work (src/train/inspect.rs); this module draws.

import { DrawingPad } from './drawing-pad.js';
import { accuracyView, pct, probabilityBars } from './accuracy-view.js';
import { LayerHealth } from './layer-health.js';
import { activationsView } from './activations-view.js';

const FILTERS_MS = 1000;
const MAX_UNITS = 32; // a dense layer has 128 units: the first ones show the idea
const MISTAKES = 24;

// Weights as a diverging picture: blue negative, white zero, red positive,
// each unit scaled to its own largest magnitude.
function unitCanvas(values, [channels, height, width]) {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(width, height);
  const plane = height * width;
  const mean = (i) => {
    let v = 0;
    for (let c = 0; c < channels; c++) v += values[c * plane + i];
    return v / channels;
  };
  let max = 1e-12;
  for (let i = 0; i < plane; i++) max = Math.max(max, Math.abs(mean(i)));
  for (let i = 0; i < plane; i++) {
    const v = mean(i) / max;
    const fade = Math.round(255 * (1 - Math.abs(v)));
    const [r, g, b] = v >= 0 ? [255, fade, fade] : [fade, fade, 255];
    image.data.set([r, g, b, 255], 4 * i);
  }
  ctx.putImageData(image, 0, 0);
  return canvas;
}

// A greyscale or colour image (channel-major bytes) as a small canvas.
function imageCanvas(pixels, [channels, height, width]) {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(width, height);
  const plane = height * width;
  for (let i = 0; i < plane; i++) {
    const [r, g, b] = channels === 3 ? [pixels[i], pixels[plane + i], pixels[2 * plane + i]] : [pixels[i], pixels[i], pixels[i]];
    image.data.set([r, g, b, 255], 4 * i);
  }
  ctx.putImageData(image, 0, 0);
  return canvas;
}

export class InsidePanel {
  // `request(type, payload)` asks the worker; `usable()` says whether it can now.
  constructor(root, request, usable) {
    this.root = root;
    this.request = request;
    this.usable = usable;
    this.filters = root.querySelector('[data-testid="filters"]');
    this.probabilities = root.querySelector('[data-testid="draw-probabilities"]');
    this.splitResult = root.querySelector('[data-testid="inspect-result"]');
    this.splitSelect = root.querySelector('[data-testid="inspect-split"]');
    this.lastFilters = 0;
    this.health = new LayerHealth(root.querySelector('.inside-health'));
    this.actRun = root.querySelector('[data-testid="act-run"]');
    this.activations = root.querySelector('[data-testid="activations"]');
    this.testIndex = 0;
    root.querySelector('[data-testid="act-test"]').addEventListener('click', () => this.showActivations({ index: this.testIndex++ }));
    root.querySelector('[data-testid="act-drawing"]').addEventListener('click', () => {
      const pixels = this.pad.pixels();
      if (!pixels) return (this.activations.textContent = 'Draw a digit on the pad first.');
      return this.showActivations({ pixels });
    });
    this.pad = new DrawingPad(root.querySelector('[data-testid="draw-pad"]'), (pixels) => this.predict(pixels));
    root.querySelector('[data-testid="draw-clear"]').addEventListener('click', () => {
      this.pad.clear();
      this.probabilities.replaceChildren();
    });
    root.querySelector('[data-testid="inspect-run"]').addEventListener('click', () => this.inspect());
    root.addEventListener('toggle', () => {
      if (!root.open) return;
      this.refreshFilters(true);
      this.health.redraw(true);
    });
  }

  // New runs (`names`): what was shown belongs to the old ones.
  reset(names) {
    this.health.reset(names);
    this.actRun.replaceChildren(...names.map((n) => new Option(n, n)));
    this.activations.replaceChildren();
    this.filters.replaceChildren();
    this.probabilities.replaceChildren();
    this.splitResult.replaceChildren();
    if (this.root.open) this.refreshFilters(true);
  }

  // Called with each progress message; redraws at most every FILTERS_MS.
  async refreshFilters(now = false) {
    if (!this.root.open || !this.usable() || this.loadingFilters) return;
    if (!now && performance.now() - this.lastFilters < FILTERS_MS) return;
    this.loadingFilters = true;
    this.lastFilters = performance.now();
    try {
      const { runs } = await this.request('filters');
      this.filters.replaceChildren(...runs.map((run) => this.filterGroup(run)));
    } catch {
      // no runs yet (nothing configured): nothing to draw
    } finally {
      this.loadingFilters = false;
    }
  }

  // Every layer's output for a test image or the drawing, for the chosen run.
  async showActivations(what) {
    if (!this.usable()) return;
    try {
      const reply = await this.request('activations', { run: this.actRun.value || undefined, ...what });
      this.activations.replaceChildren(...activationsView(reply));
    } catch (err) {
      this.activations.textContent = `${err.code || 'Error'}: ${err.message}`;
    }
  }

  filterGroup({ name, shape, weights, base, second }) {
    const group = document.createElement('figure');
    group.className = 'filter-group';
    const caption = document.createElement('figcaption');
    if (!weights) {
      caption.textContent = `${name}: no weight layer`;
      group.append(caption);
      return group;
    }
    const [units, ...rest] = weights.shape;
    const per = weights.values.length / units;
    // A convolution's kernel is [channels, k, k]; a dense unit's weights are an image when they match the input.
    const unitShape = weights.kind === 'conv2d' ? rest : per === shape[0] * shape[1] * shape[2] ? shape : null;
    caption.textContent = `${name}: layer ${weights.layer} (${weights.kind}), ${units} ${weights.kind === 'conv2d' ? 'filters' : 'units'}${unitShape ? '' : ' (its weights are not an image)'}`;
    const grid = (w, label) => {
      const row = document.createElement('div');
      row.className = 'filter-grid';
      row.dataset.units = String(Math.min(units, MAX_UNITS));
      if (label) {
        row.dataset.of = label;
        row.append(Object.assign(document.createElement('span'), { className: 'filter-label', textContent: label }));
      }
      if (unitShape) for (let u = 0; u < Math.min(units, MAX_UNITS); u++) row.append(unitCanvas(w.values.subarray(u * per, (u + 1) * per), unitShape));
      return row;
    };
    // A fine-tuned run: its base's filters above the current ones, what fine-tuning changed.
    group.append(caption, ...(base ? [grid(base, 'base'), grid(weights, 'now')] : [grid(weights, null)]));
    if (second) {
      const [count, channels, k] = second.shape;
      const row = document.createElement('div');
      row.className = 'filter-grid second';
      row.dataset.of = 'second';
      const size = channels * k * k;
      for (let u = 0; u < count; u++) row.append(unitCanvas(second.values.subarray(u * size, (u + 1) * size), [channels, k, k]));
      group.append(Object.assign(document.createElement('figcaption'), { textContent: `layer ${second.layer} (conv2d): ${count} filters, each averaged over its ${channels} input channels` }), row);
    }
    return group;
  }

  async predict(pixels) {
    if (!this.usable()) return;
    if (this.predicting) {
      this.queued = pixels; // the latest drawing wins
      return;
    }
    this.predicting = true;
    try {
      const { runs } = await this.request('predict', { pixels });
      this.probabilities.replaceChildren(...runs.map((run) => this.probabilityList(run)));
    } catch (err) {
      this.probabilities.textContent = `${err.code || 'Error'}: ${err.message}`;
    } finally {
      this.predicting = false;
      if (this.queued) {
        const next = this.queued;
        this.queued = null;
        this.predict(next);
      }
    }
  }

  probabilityList({ name, classes, probabilities, problem }) {
    const box = document.createElement('div');
    box.className = 'draw-run';
    box.dataset.run = name;
    const title = Object.assign(document.createElement('p'), { className: 'draw-run-name', textContent: name });
    if (problem) {
      box.append(title, Object.assign(document.createElement('p'), { textContent: `Not for drawings: ${problem}.` }));
      return box;
    }
    const best = probabilities.indexOf(Math.max(...probabilities));
    box.dataset.best = classes[best];
    title.textContent = `${name}: “${classes[best]}” (${pct(probabilities[best])})`;
    const list = probabilityBars(classes, probabilities);
    box.append(title, list);
    return box;
  }

  async inspect() {
    if (!this.usable()) return;
    this.splitResult.replaceChildren(Object.assign(document.createElement('p'), { textContent: 'Measuring…' }));
    try {
      const split = this.splitSelect.value;
      const { runs } = await this.request('inspectSplit', { split, mistakes: MISTAKES });
      this.splitResult.replaceChildren(...runs.map((run) => this.splitView(run, split)));
    } catch (err) {
      this.splitResult.replaceChildren(Object.assign(document.createElement('p'), { className: 'error', textContent: `${err.code || 'Error'}: ${err.message}` }));
    }
  }

  splitView({ name, classes, shape, report }, split) {
    const box = document.createElement('div');
    box.className = 'inspect-run';
    box.dataset.run = name;
    const images = report.per_class.reduce((n, c) => n + c.images, 0);
    const summary = Object.assign(document.createElement('p'), { textContent: `${name}: ${pct(report.acc)} of ${images} ${split} images right` });
    summary.setAttribute('data-testid', 'inspect-summary');
    const gallery = document.createElement('div');
    gallery.className = 'mistakes';
    gallery.setAttribute('data-testid', 'mistakes');
    const show = (filter) => {
      const chosen = report.mistakes.filter((m) => !filter || (m.label === filter[0] && m.predicted === filter[1]));
      gallery.replaceChildren(
        Object.assign(document.createElement('p'), {
          className: 'mistakes-title',
          textContent: filter ? `${classes[filter[0]]} taken for ${classes[filter[1]]}: ${chosen.length} of the ${report.mistakes.length} surest mistakes (show all: click the title)` : `The ${chosen.length} mistakes it was surest of`,
        }),
        ...chosen.map((m) => {
          const figure = document.createElement('figure');
          figure.dataset.label = String(m.label);
          figure.dataset.predicted = String(m.predicted);
          figure.append(imageCanvas(m.pixels, shape), Object.assign(document.createElement('figcaption'), { textContent: `${classes[m.label]} → ${classes[m.predicted]} ${pct(m.confidence)}` }));
          return figure;
        }),
      );
      gallery.firstChild.addEventListener('click', () => show(null));
    };
    show(null);
    box.append(summary, ...accuracyView(report, { onCell: (t, p) => show([t, p]) }), gallery);
    return box;
  }
}
