// Every layer's output for one image, as pictures: a convolution's or a
// pooling layer's channels as small greyscale maps (one scale per layer, so
// channels compare), a flat layer's units as a strip (red positive, blue
// negative), and the last layer's logits as class probabilities.

import { probabilityBars } from './accuracy-view.js';

const MAX_CHANNELS = 16;

function mapCanvas(values, width, height, lo, hi) {
  const canvas = Object.assign(document.createElement('canvas'), { width, height });
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(width, height);
  const span = hi - lo || 1;
  for (let i = 0; i < width * height; i++) {
    const v = Math.round((255 * (values[i] - lo)) / span);
    image.data.set([v, v, v, 255], 4 * i);
  }
  ctx.putImageData(image, 0, 0);
  return canvas;
}

function stripCanvas(values) {
  const canvas = Object.assign(document.createElement('canvas'), { width: values.length, height: 1 });
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(values.length, 1);
  const max = Math.max(...values.map(Math.abs), 1e-12);
  values.forEach((value, i) => {
    const v = value / max;
    const fade = Math.round(255 * (1 - Math.abs(v)));
    image.data.set(v >= 0 ? [255, fade, fade, 255] : [fade, fade, 255, 255], 4 * i);
  });
  ctx.putImageData(image, 0, 0);
  return canvas;
}

function softmax(logits) {
  const max = Math.max(...logits);
  const exp = logits.map((v) => Math.exp(v - max));
  const sum = exp.reduce((a, b) => a + b, 0);
  return exp.map((e) => e / sum);
}

// `reply`: the worker's `activated` message.
export function activationsView({ name, classes, shape, pixels, label, layers }) {
  const out = [];
  const [c, h, w] = shape;
  const input = document.createElement('figure');
  input.className = 'act-layer act-input';
  input.append(
    mapCanvas(Float32Array.from(pixels.slice(0, h * w)), w, h, 0, 255),
    Object.assign(document.createElement('figcaption'), { textContent: `${name}: the image${label !== null ? ` (a ${classes[label]})` : ''}${c > 1 ? ', first channel' : ''}` }),
  );
  out.push(input);
  layers.forEach((layer, i) => {
    const values = Array.from(layer.values);
    const figure = document.createElement('figure');
    figure.className = 'act-layer';
    figure.dataset.layer = String(layer.layer);
    const caption = document.createElement('figcaption');
    const last = i === layers.length - 1;
    caption.textContent = `${layer.layer} ${layer.name} → ${layer.shape.join('×')}${last ? ': the class probabilities (softmax of these outputs)' : ''}`;
    const body = document.createElement('div');
    body.className = 'act-maps';
    if (last) {
      const probs = softmax(values);
      const best = probs.indexOf(Math.max(...probs));
      figure.dataset.best = classes[best];
      const list = probabilityBars(classes, probs);
      body.append(list);
    } else if (layer.shape.length === 3) {
      const [channels, height, width] = layer.shape;
      const lo = Math.min(...values);
      const hi = Math.max(...values);
      for (let ch = 0; ch < Math.min(channels, MAX_CHANNELS); ch++) body.append(mapCanvas(values.slice(ch * height * width, (ch + 1) * height * width), width, height, lo, hi));
      if (channels > MAX_CHANNELS) body.append(Object.assign(document.createElement('span'), { className: 'act-more', textContent: `+${channels - MAX_CHANNELS} more` }));
    } else {
      const strip = stripCanvas(values);
      strip.className = 'act-strip';
      body.append(strip);
    }
    figure.append(caption, body);
    out.push(figure);
  });
  return out;
}
