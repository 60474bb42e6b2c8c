// A guided tutorial (www/tutorials/): one step at a time, with Next and
// Back. Entering a step applies its settings (every other setting back to
// its default, so a step is the same however one got there), marks the
// button to press and the panel to look at, and puts the step in the
// address (`#tutorial=<name>/<step>`), so each step has its own link.

import { LinkProblem } from './share.js';
import { TUTORIALS } from './tutorials/index.js';

export class Tutorial {
  // `applySettings(settings)`: the page applies a step's {name: value} settings.
  constructor(root, applySettings) {
    this.root = root;
    this.applySettings = applySettings;
    this.name = null;
    this.index = 0;
    this.text = root.querySelector('[data-testid="tutorial-step"]');
    this.title = root.querySelector('.tutorial-title');
    this.back = root.querySelector('[data-testid="tutorial-back"]');
    this.next = root.querySelector('[data-testid="tutorial-next"]');
    this.back.addEventListener('click', () => this.go(this.index - 1));
    this.next.addEventListener('click', () => this.go(this.index + 1));
    root.querySelector('.tutorial-close').addEventListener('click', () => this.stop());
  }

  // The URL-state entry: `tutorial=scratch` or `tutorial=scratch/3`.
  entry() {
    return {
      name: 'tutorial',
      type: 'tutorial name, optionally /step',
      default: '',
      late: true,
      where: 'the guided tutorial panel',
      read: () => (this.name ? `${this.name}/${this.index + 1}` : ''),
      parse: (text) => {
        if (text === '') return text;
        const [, name, step] = text.match(/^([a-z-]+)(?:\/(\d+))?$/) || [];
        if (!TUTORIALS[name]) throw new LinkProblem(`tutorial “${text}” does not exist (there are ${Object.keys(TUTORIALS).join(', ')})`);
        const steps = TUTORIALS[name].steps.length;
        if (step !== undefined && (Number(step) < 1 || Number(step) > steps)) throw new LinkProblem(`tutorial ${name} has steps 1 to ${steps}, not ${step}`);
        return text;
      },
      write: (value) => {
        if (value === '') return this.stop();
        const [name, step = '1'] = value.split('/');
        this.start(name, Number(step) - 1);
        return undefined;
      },
    };
  }

  start(name, index = 0) {
    this.name = name;
    this.root.hidden = false;
    this.title.textContent = TUTORIALS[name].title;
    this.go(index);
  }

  stop() {
    this.name = null;
    this.root.hidden = true;
    this.mark(null);
  }

  go(index) {
    const { steps } = TUTORIALS[this.name];
    this.index = Math.max(0, Math.min(index, steps.length - 1));
    const step = steps[this.index];
    this.text.textContent = step.text;
    this.text.dataset.step = String(this.index + 1);
    this.root.querySelector('.tutorial-count').textContent = `Step ${this.index + 1} of ${steps.length}`;
    this.back.disabled = this.index === 0;
    this.next.disabled = this.index === steps.length - 1;
    this.applySettings(step.settings);
    this.mark(step);
    history.replaceState(null, '', `${location.pathname}${location.search}#${new URLSearchParams({ ...step.settings, tutorial: `${this.name}/${this.index + 1}` })}`);
  }

  // The step's button to press and panel to look at get a visible outline.
  mark(step) {
    for (const el of document.querySelectorAll('.tutorial-mark')) el.classList.remove('tutorial-mark');
    if (!step) return;
    for (const id of [step.press, step.look].filter(Boolean)) document.querySelector(`[data-testid="${id}"]`)?.classList.add('tutorial-mark');
  }
}
