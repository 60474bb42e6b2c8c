// The layers panel: every layer of the (single) run with its output shape and
// parameter count, a "frozen" toggle and a learning-rate multiplier for each
// layer that has parameters. Before a run exists the panel shows the layers
// the form would build, and remembers the user's choices (`choices()`), which
// the next run is configured with; during a run each change goes to the worker
// at once, which confirms it. Either way the choices are kept for the next run.

import { allows, limit } from './catalog.js';
import { LinkProblem } from './share.js';

export class LayersPanel {
  constructor(root, { onFreeze, onRate }) {
    this.root = root;
    this.list = root.querySelector('ol');
    this.onFreeze = onFreeze;
    this.onRate = onRate;
    this.frozen = new Map(); // layer index → frozen, as the user set it
    this.rates = new Map(); // layer index → multiplier, as the user set it
  }

  // The user's choices as TrainConfig fields.
  choices() {
    return {
      freeze: [...this.frozen].filter(([, frozen]) => frozen).map(([layer]) => layer),
      layer_lr: [...this.rates].map(([layer, multiplier]) => ({ layer, multiplier })),
    };
  }

  // The choices' entries in the URL-state table (share.js): `freeze=0,3` and
  // `layer_lr=3:0.1,5:0.5`. They are applied last (`late`): a model change
  // earlier in the same link forgets per-layer choices.
  urlEntries() {
    const indices = (text, name) =>
      text.split(',').filter(Boolean).map((part) => {
        if (!/^\d+$/.test(part)) throw new LinkProblem(`${name} takes layer numbers, not “${part}”`);
        return Number(part);
      });
    return [
      {
        name: 'freeze',
        type: 'layer numbers',
        default: '',
        late: true,
        where: 'Layers panel: frozen',
        read: () => this.choices().freeze.join(','),
        parse: (text) => indices(text, 'freeze').join(','),
        write: (value) => {
          for (const layer of this.frozen.keys()) this.frozen.set(layer, false);
          for (const layer of indices(value, 'freeze')) this.frozen.set(layer, true);
        },
      },
      {
        name: 'layer_lr',
        type: 'layer:multiplier list',
        default: '',
        late: true,
        where: 'Layers panel: LR ×',
        read: () => this.choices().layer_lr.map(({ layer, multiplier }) => `${layer}:${multiplier}`).join(','),
        parse: (text) => {
          const range = limit('layer_lr.multiplier');
          for (const part of text.split(',').filter(Boolean)) {
            const [layer, multiplier, extra] = part.split(':');
            if (extra !== undefined || !/^\d+$/.test(layer || '') || multiplier === undefined || multiplier.trim() === '' || !allows(range, Number(multiplier))) {
              throw new LinkProblem(`layer_lr takes layer:multiplier pairs with multipliers in the core’s range, not “${part}”`);
            }
          }
          return text;
        },
        write: (value) => {
          this.rates.clear();
          for (const part of value.split(',').filter(Boolean)) {
            const [layer, multiplier] = part.split(':');
            this.rates.set(Number(layer), Number(multiplier));
          }
        },
      },
    ];
  }

  // Forget the choices (the model changed, so the indices mean other layers).
  forget() {
    this.frozen.clear();
    this.rates.clear();
  }

  show(layers) {
    // Re-rendering identical rows would only cost a layout (e.g. when Train
    // configures the run the panel already previews).
    const key = JSON.stringify(layers);
    if (key === this.shown && !this.root.hidden) return;
    this.shown = key;
    this.root.hidden = false;
    this.list.replaceChildren(...layers.map((layer) => this.row(layer)));
  }

  row(layer) {
    const li = document.createElement('li');
    const name = document.createElement('span');
    name.className = 'layer-name';
    name.textContent = `${layer.index}. ${layer.name}`;
    const shape = document.createElement('span');
    shape.className = 'layer-shape';
    shape.textContent = layer.params ? `→ ${layer.output} · ${layer.params.toLocaleString('en-US')} params` : `→ ${layer.output}`;
    li.append(name, shape);
    if (!layer.params) return li;

    const freeze = document.createElement('label');
    freeze.className = 'layer-control';
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.checked = layer.frozen;
    box.setAttribute('data-testid', `freeze-${layer.index}`);
    box.title = 'frozen: the optimiser leaves this layer’s weights unchanged';
    // Every row says "frozen" and "LR ×": the names say which layer.
    box.setAttribute('aria-label', `${layer.index}. ${layer.name} frozen`);
    box.addEventListener('change', () => {
      this.frozen.set(layer.index, box.checked);
      this.onFreeze(layer.index, box.checked, box);
    });
    freeze.append(box, 'frozen');

    const rate = document.createElement('label');
    rate.className = 'layer-control';
    const input = document.createElement('input');
    input.type = 'number';
    const range = limit('layer_lr.multiplier');
    input.min = String(range.min);
    input.max = String(range.max);
    input.step = 'any';
    input.value = String(+layer.lr_multiplier.toPrecision(4));
    input.setAttribute('data-testid', `lr-mult-${layer.index}`);
    input.title = 'this layer learns at this multiple of the learning rate';
    input.setAttribute('aria-label', `${layer.index}. ${layer.name} LR ×`);
    input.addEventListener('change', () => {
      const value = Number(input.value);
      // The core's range for a layer's multiplier (the worker would refuse anything else).
      const ok = input.value.trim() !== '' && allows(range, value);
      input.setAttribute('aria-invalid', ok ? 'false' : 'true');
      if (!ok) return;
      this.rates.set(layer.index, value);
      this.onRate(layer.index, value, input);
    });
    rate.append('LR ×', input);
    li.append(freeze, rate);
    return li;
  }

  hide() {
    this.root.hidden = true;
  }
}
