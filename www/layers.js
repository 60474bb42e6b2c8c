// The layers panel: every layer of the (single) run with its output shape and
// parameter count, and a "frozen" toggle for each layer that has parameters.
// Toggles work before and during a run; the worker confirms each change.

export class LayersPanel {
  constructor(root, onToggle) {
    this.root = root;
    this.list = root.querySelector('ol');
    this.onToggle = onToggle;
  }

  show(layers) {
    this.root.hidden = false;
    this.list.replaceChildren(
      ...layers.map((layer) => {
        const li = document.createElement('li');
        const label = document.createElement('label');
        const name = document.createElement('span');
        name.className = 'layer-name';
        name.textContent = `${layer.index}. ${layer.name}`;
        const shape = document.createElement('span');
        shape.className = 'layer-shape';
        shape.textContent = layer.params ? `→ ${layer.output} · ${layer.params.toLocaleString('en-US')} params` : `→ ${layer.output}`;
        label.append(name, shape);
        if (layer.params) {
          const box = document.createElement('input');
          box.type = 'checkbox';
          box.checked = layer.frozen;
          box.dataset.testid = `freeze-${layer.index}`;
          box.setAttribute('data-testid', `freeze-${layer.index}`);
          box.title = 'frozen: the optimiser leaves this layer\'s weights unchanged';
          box.addEventListener('change', () => this.onToggle(layer.index, box.checked, box));
          const text = document.createElement('span');
          text.className = 'freeze-label';
          text.textContent = 'frozen';
          label.append(box, text);
        }
        li.append(label);
        return li;
      }),
    );
  }

  hide() {
    this.root.hidden = true;
  }
}
