// Augmentation controls (a strength and a probability per transform, the
// core's AugmentConfig in src/data/augment.rs) and the live preview: real
// training images next to the same images augmented by the core, redrawn
// as the sliders move.

import { augmentPreset, catalog } from './catalog.js';

// The transforms, their fields and ranges, and the standard set are the
// core's catalog (src/catalog/); how each value reads is this panel's.
const FORMATS = {
  rotation: (v) => `${v}°`,
  zoom: (v) => `${Math.round(v * 100)} %`,
  translate: (v) => `${Math.round(v * 100)} %`,
  flip: () => '',
  brightness: (v) => v.toFixed(2),
  contrast: (v) => v.toFixed(2),
  noise: (v) => v.toFixed(2),
  erase: (v) => `${Math.round(v * 100)} %`,
};
const format = (name) => FORMATS[name] || ((v) => String(v));
// What a strength slider's number is in, for its accessible name: the
// visible "12°" alone tells a screen reader neither what nor which slider.
const UNITS = { rotation: 'degrees', zoom: 'percent', translate: 'percent of the image', erase: 'percent of the image' };
const strengthName = (t) => (UNITS[t.name] ? `${t.label}, ${UNITS[t.name]}` : t.label);
// "Rotation ±" → "Rotation probability"; brightness's probability is contrast's too.
const probabilityName = (t) => (t.name === 'brightness' ? 'Brightness and contrast probability' : `${t.label.replace(/ [±σ]$|, area$/, '')} probability`);
// A strength's field in AugmentConfig: the catalog names it by its path in the run configuration.
const strengthField = (t) => (t.strength ? t.strength.field.replace(/^augment\./, '') : null);

const PREVIEW_COUNT = 8;

// "rotation ±12° (p 0.8), zoom ±10 % (p 0.8)" — for the runs list; '' when none.
export function describeAugment(augment = {}) {
  const parts = [];
  for (const t of catalog().transforms) {
    const strength = strengthField(t);
    // Contrast has no probability of its own: it happens with brightness.
    const chance = t.probability ? augment[t.probability] || 0 : augment.color_p || 0;
    const amount = strength ? augment[strength] || 0 : 1;
    if (chance > 0 && amount > 0) parts.push(`${t.label.toLowerCase()}${strength ? format(t.name)(amount) : ''} (p ${chance})`);
  }
  return parts.length ? `augmentation: ${parts.join(', ')}` : '';
}

export class AugmentPanel {
  constructor(fieldset, previewRoot, requestPreview) {
    this.fieldset = fieldset;
    this.previewRoot = previewRoot;
    this.requestPreview = requestPreview; // (augment, count, seed) → Promise<{shape, bytes}>
    this.seed = 1;
    this.inputs = new Map(); // field → range input
    fieldset.querySelector('[data-testid="augment-standard"]').addEventListener('click', () => this.set(augmentPreset('standard')));
    fieldset.querySelector('[data-testid="augment-none"]').addEventListener('click', () => this.set({}));
    previewRoot.querySelector('[data-testid="preview-other"]').addEventListener('click', () => {
      this.seed += 1;
      this.refresh();
    });
    this.pending = false;
    this.inFlight = false;
  }

  // One row per transform of the core's catalog: its strength and its probability.
  useCatalog() {
    const rows = this.fieldset.querySelector('.augment-rows');
    // Column headings for sighted users; each slider carries its full name.
    const head = document.createElement('div');
    head.className = 'augment-row augment-head';
    head.setAttribute('aria-hidden', 'true');
    head.append(...['', 'strength', 'probability'].map((text) => Object.assign(document.createElement('span'), { textContent: text })));
    const built = catalog().transforms.map((t) => {
      const row = document.createElement('div');
      row.className = 'augment-row';
      row.append(Object.assign(document.createElement('span'), { className: 'augment-name', textContent: t.label }));
      if (t.strength) row.append(this.slider(t.name, strengthField(t), t.slider_max, t.slider_step, format(t.name), strengthName(t)));
      else row.append(document.createElement('span'));
      if (t.probability) row.append(this.slider(`${t.name}-p`, t.probability, 1, 0.05, (v) => `p ${v}`, probabilityName(t)));
      else row.append(Object.assign(document.createElement('span'), { className: 'augment-shared', textContent: 'with brightness' }));
      return row;
    });
    rows.replaceChildren(head, ...built);
  }

  slider(key, field, max, step, format, name) {
    const wrap = document.createElement('label');
    wrap.className = 'augment-slider';
    // defaultValue too: links leave out what equals it (share.js).
    const input = Object.assign(document.createElement('input'), { type: 'range', min: '0', max: String(max), step: String(step), defaultValue: '0', value: '0', name: `aug_${field}` });
    input.setAttribute('data-testid', `aug-${key}`);
    input.setAttribute('aria-label', name);
    const value = Object.assign(document.createElement('output'), { textContent: format(0) });
    value.setAttribute('aria-hidden', 'true'); // the slider's aria-valuetext says the same
    input.format = () => {
      const text = format(Number(input.value));
      value.textContent = text;
      // A probability reads well as the bare number; a strength needs its unit.
      if (!key.endsWith('-p')) input.setAttribute('aria-valuetext', text);
    };
    input.format();
    input.addEventListener('input', () => {
      input.format();
      this.refresh();
    });
    wrap.append(input, value);
    this.inputs.set(field, input);
    return wrap;
  }

  // The AugmentConfig the sliders describe (fields at 0 left out).
  config() {
    const out = {};
    for (const [field, input] of this.inputs) if (Number(input.value) > 0) out[field] = Number(input.value);
    return out;
  }

  set(config) {
    for (const [field, input] of this.inputs) {
      input.value = String(config[field] || 0);
      input.format();
    }
    // Tell the form (settings changed) as a user's slider move would.
    this.fieldset.dispatchEvent(new Event('change', { bubbles: true }));
    this.refresh();
  }

  // Redraws the preview; at most one request in flight, the latest settings win.
  async refresh() {
    if (this.inFlight) {
      this.pending = true;
      return;
    }
    this.inFlight = true;
    try {
      const { shape, bytes } = await this.requestPreview(this.config(), PREVIEW_COUNT, this.seed);
      this.draw(shape, bytes);
      this.previewRoot.querySelector('.preview-error').hidden = true;
    } catch (err) {
      const box = this.previewRoot.querySelector('.preview-error');
      box.hidden = false;
      box.textContent = `No preview: ${err.message}`;
    } finally {
      this.inFlight = false;
      if (this.pending) {
        this.pending = false;
        this.refresh();
      }
    }
  }

  // bytes: `count` originals then `count` augmented images, each C×H×W.
  // All of them go into one canvas, originals above, augmented below (framed
  // in the accent colour): every canvas is a composited layer of its own in
  // Chromium, and sixteen of them made each frame's commit ~50 % dearer
  // while training.
  draw([channels, height, width], bytes) {
    const size = channels * height * width;
    const count = bytes.length / size / 2;
    // Tiles 4 canvas pixels apart (the canvas is scaled up, pixelated); an
    // augmented tile's frame takes the pixel ring just outside it, so no
    // image pixel is hidden.
    const gap = 4;
    const canvas = document.createElement('canvas');
    canvas.width = count * (width + gap) - gap + 2;
    canvas.height = 2 * (height + gap) - gap + 2;
    canvas.dataset.images = String(count);
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', `${count} training images, and below them the same images as augmented for training`);
    const ctx = canvas.getContext('2d');
    const image = ctx.createImageData(canvas.width, canvas.height);
    const put = (x, y, rgb) => image.data.set([...rgb, 255], 4 * (y * canvas.width + x));
    const plane = width * height;
    const accent = [0x24, 0x57, 0xc5];
    for (let i = 0; i < 2 * count; i++) {
      const [x0, y0] = [1 + (i % count) * (width + gap), 1 + Math.floor(i / count) * (height + gap)];
      if (i >= count) {
        for (let x = -1; x <= width; x++) [put(x0 + x, y0 - 1, accent), put(x0 + x, y0 + height, accent)];
        for (let y = 0; y < height; y++) [put(x0 - 1, y0 + y, accent), put(x0 + width, y0 + y, accent)];
      }
      const at = i * size;
      for (let p = 0; p < plane; p++) {
        const rgb = channels === 3 ? [bytes[at + p], bytes[at + plane + p], bytes[at + 2 * plane + p]] : [bytes[at + p], bytes[at + p], bytes[at + p]];
        put(x0 + (p % width), y0 + Math.floor(p / width), rgb);
      }
    }
    ctx.putImageData(image, 0, 0);
    const grid = this.previewRoot.querySelector('.preview-grid');
    grid.replaceChildren(canvas);
    // A fingerprint of what is shown, so tests (and curious users) can tell a change.
    let hash = 0;
    for (let i = size * count; i < bytes.length; i++) hash = (hash * 31 + bytes[i]) >>> 0;
    this.previewRoot.dataset.fingerprint = String(hash);
  }
}
