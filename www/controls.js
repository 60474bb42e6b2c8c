// The configuration form: its choices, defaults and ranges are the core's
// catalog (www/catalog.js), it reads itself into runs (the core's
// TrainConfig, through the experiments in www/experiments.js), and it shows
// what is wrong. The form itself finds only a box that is empty or holds no
// number; every range (a whole number, a bound) is the core's to check
// (`validate`, through the worker), and the form marks the fields it names.

import { catalog, choicesFor, initSpec, limit, optimizerSpec, scheduleSpec, shiftChoice } from './catalog.js';
import { EXPERIMENTS, TAKES_K } from './experiments.js';

// The form's number inputs: the core's field each one sets, and its label here.
export const NUMBER_FIELDS = {
  lr: { field: 'lr', label: 'Learning rate' },
  batchSize: { field: 'batch_size', label: 'Batch size' },
  epochs: { field: 'epochs', label: 'Epochs' },
  l1: { field: 'l1', label: 'L1' },
  l2: { field: 'l2', label: 'L2' },
  dropout: { field: 'dropout', label: 'Dropout' },
  seed: { field: 'seed', label: 'Seed' },
  initScale: { field: 'init.scale', also: ['init.std'], label: 'Scale' },
  labelsPerClass: { field: 'labels_per_class', label: 'Labelled images per class' },
  earlyStopping: { field: 'early_stopping', label: 'Early stopping patience' },
  unfreezeEvery: { field: 'unfreeze_every', label: 'Gradual unfreezing' },
  pretrainedLr: { field: 'pretrained_lr', label: 'Pretrained layers’ rate' },
  shiftStrength: { field: 'shift.strength', label: 'Shift strength' },
};

// A number input's default and the bounds a browser can show (the core checks them anyway).
function applyRange(input, range) {
  if (range.default !== null) input.defaultValue = String(range.default);
  input.min = !range.min_exclusive && Number.isFinite(range.min) ? String(range.min) : '';
  input.max = range.max !== null && !range.max_exclusive ? String(range.max) : '';
}

// The input that sets a core field, if the form has one.
const inputFor = (field) => Object.keys(NUMBER_FIELDS).find((name) => NUMBER_FIELDS[name].field === field || (NUMBER_FIELDS[name].also || []).includes(field));

export class Controls {
  constructor(form) {
    this.form = form;
    this.errorBox = form.querySelector('[data-testid="form-error"]');
    this.scaleField = form.querySelector('.init-scale');
    this.parseProblems = new Map(); // input name → text (empty box, not a number)
    this.coreProblems = new Map(); // input name (or a core field the form lacks) → text
    form.elements.init.addEventListener('change', () => this.updateScaleVisibility());
    form.elements.experiment.addEventListener('change', () => this.applyExperiment());
    form.elements.shiftKind.addEventListener('change', () => {
      const { strength } = shiftChoice(form.elements.shiftKind.value);
      applyRange(form.elements.shiftStrength, strength);
      form.elements.shiftStrength.value = strength.default;
    });
    this.checks = 0; // numbers each check, so a reply overtaken by a newer one is dropped
    // An edited field's old verdict goes at once; the core's new one follows.
    form.addEventListener('input', (event) => this.forget(event.target.name));
    form.addEventListener('change', (event) => this.forget(event.target.name));
  }

  // Fills the choices and the numeric defaults and ranges in from the core's
  // catalog; a <select>'s data-default names the page's default choice.
  useCatalog() {
    const f = this.form.elements;
    for (const name of ['model', 'init', 'optimizer', 'schedule', 'shiftKind']) {
      const select = f[name];
      const chosen = select.dataset.default;
      select.replaceChildren(...choicesFor(name).map((c) => new Option(c.label, c.name, c.name === chosen, c.name === chosen)));
    }
    for (const [name, { field }] of Object.entries(NUMBER_FIELDS)) {
      const range = limit(field, f.shiftKind.value);
      if (range) applyRange(f[name], range);
    }
    this.fillWorkers();
    this.updateScaleVisibility();
    this.updateExperimentFields();
  }

  // How many workers train each run: 1 to the core's limit, by default every
  // core but one (the page's own thread needs one), at least 1 — where the
  // page is cross-origin isolated. Elsewhere the workers can only exchange
  // messages, which measured slower than one worker (README), so 1.
  fillWorkers() {
    const { max } = limit('workers');
    const cores = self.crossOriginIsolated ? navigator.hardwareConcurrency || 1 : 2;
    const chosen = Math.min(max, Math.max(1, cores - 1));
    const options = Array.from({ length: max }, (_, i) => new Option(String(i + 1), String(i + 1), i + 1 === chosen, i + 1 === chosen));
    this.form.elements.workers.replaceChildren(...options);
  }

  workers() {
    return Number(this.form.elements.workers.value) || 1;
  }

  isFree() {
    return this.form.elements.experiment.value === 'free';
  }

  updateExperimentFields() {
    const experiment = this.form.elements.experiment.value;
    for (const el of this.form.querySelectorAll('.scenario-only')) el.hidden = experiment === 'free';
    this.form.querySelector('.scenario-note').textContent = EXPERIMENTS[experiment].about || '';
    // The sweep chooses K itself.
    for (const el of this.form.querySelectorAll('.k-only')) el.hidden = !TAKES_K.includes(experiment);
    for (const el of this.form.querySelectorAll('.shift-only')) el.hidden = experiment !== 'domain-shift';
    // Experiments choose their own data and starting points.
    this.form.elements.startFrom.closest('label').hidden = experiment !== 'free';
    this.form.elements.dataset.closest('label').hidden = experiment !== 'free';
  }

  // Picking an experiment fills in the settings it is meant to run with.
  applyExperiment() {
    const { defaults = {} } = EXPERIMENTS[this.form.elements.experiment.value];
    const f = this.form.elements;
    if (defaults.model) f.model.value = defaults.model;
    if (defaults.epochs) f.epochs.value = defaults.epochs;
    if (defaults.batchSize) f.batchSize.value = defaults.batchSize;
    if (defaults.lr) f.lr.value = defaults.lr;
    this.updateExperimentFields();
  }

  // Only the plain random initialisers take a scale.
  updateScaleVisibility() {
    const choice = catalog().inits.find((c) => c.name === this.form.elements.init.value);
    this.scaleField.hidden = !(choice && choice.scale_field);
  }

  onChange(callback) {
    this.form.addEventListener('input', callback);
    this.form.addEventListener('change', callback);
  }

  // Returns {runs} to configure, or {sweep: k → runs} for a sweep, or null
  // when a box is empty or not a number (shown by `check`). `layers`
  // ({freeze, layer_lr}) are the layers panel's choices, used by free
  // training (experiments define their own); `augment` (an AugmentConfig)
  // applies to every run alike. Ranges are the core's to check: see `check`.
  read(layers = { freeze: [], layer_lr: [] }, augment = {}) {
    const f = this.form.elements;
    const values = {};
    this.parseProblems.clear();
    for (const [name, { label }] of Object.entries(NUMBER_FIELDS)) {
      const input = f[name];
      // A field this experiment hides is not used, so it cannot be wrong.
      if (input.closest('[hidden]')) continue;
      const raw = input.value.trim();
      const value = Number(raw);
      // A number input reports text it cannot parse as an empty value with validity.badInput set.
      let problem = null;
      if (input.validity && input.validity.badInput) problem = 'is not a number';
      else if (raw === '') problem = 'is empty';
      else if (!Number.isFinite(value)) problem = `is not a number (got “${raw}”)`;
      if (problem) this.parseProblems.set(name, `${label} ${problem}.`);
      else values[name] = value;
    }
    // Shown by `check`, together with the core's verdict on the rest.
    const parsed = (name, fallback) => (name in values ? values[name] : fallback);
    // A box that does not parse is left out, so the core still checks the rest.
    const config = Object.fromEntries(
      Object.entries({
        model: f.model.value,
        init: initSpec(f.init.value, parsed('initScale', undefined)),
        optimizer: optimizerSpec(f.optimizer.value),
        lr: parsed('lr'),
        batch_size: parsed('batchSize'),
        epochs: parsed('epochs'),
        l1: parsed('l1'),
        l2: parsed('l2'),
        dropout: parsed('dropout'),
        seed: parsed('seed'),
        evals_per_epoch: 4,
        schedule: scheduleSpec(f.schedule.value),
        early_stopping: parsed('earlyStopping', 0) || null,
        unfreeze_every: parsed('unfreezeEvery', 0) || null,
        pretrained_lr: parsed('pretrainedLr'),
        augment,
      }).filter(([, v]) => v !== undefined),
    );
    if (config.init.scale === undefined && config.init.std === undefined && this.scaleField.hidden === false) delete config.init;
    const experiment = EXPERIMENTS[f.experiment.value];
    const args = {
      dataset: f.dataset.value,
      config: this.isFree() ? { ...config, ...layers } : config,
      k: parsed('labelsPerClass', 1),
      startFrom: f.startFrom.value,
      startFromLabel: f.startFrom.value.startsWith('saved:') ? f.startFrom.selectedOptions[0].textContent : null,
      shift: { kind: f.shiftKind.value, strength: parsed('shiftStrength', shiftChoice(f.shiftKind.value).strength.default) },
    };
    const runs = experiment.sweep ? null : experiment.runs(args);
    const sweep = experiment.sweep ? experiment.sweep(args) : null;
    this.lastRead = runs || sweep(1);
    if (this.parseProblems.size) return null;
    return runs ? { runs } : { sweep };
  }

  // Asks the core about the settings last read (`validate(configs)` → one
  // list of problems per config); marks each field it names. True when the
  // core found nothing wrong and no box failed to parse.
  async check(validate) {
    const runs = this.lastRead || [];
    const mine = ++this.checks;
    let lists;
    try {
      lists = await validate(runs.map((r) => r.config));
    } catch (err) {
      this.show(); // at least what the form itself found
      throw err;
    }
    if (mine !== this.checks) return false; // the form changed meanwhile: the newer check decides
    this.coreProblems.clear();
    for (const problem of lists.flat()) {
      const name = problem.field ? inputFor(problem.field) : null;
      if (name && this.parseProblems.has(name)) continue;
      const text = name ? `${NUMBER_FIELDS[name].label} ${problem.rule}.` : `${problem.message}.`;
      this.coreProblems.set(name || problem.field || problem.message, text);
    }
    this.show();
    return this.parseProblems.size === 0 && this.coreProblems.size === 0;
  }

  // A field the user edits loses its old verdict at once.
  forget(name) {
    if (!name || !(this.parseProblems.has(name) || this.coreProblems.has(name))) return;
    this.parseProblems.delete(name);
    this.coreProblems.delete(name);
    this.show();
  }

  show() {
    for (const name of Object.keys(NUMBER_FIELDS)) {
      const bad = this.parseProblems.has(name) || this.coreProblems.has(name);
      this.form.elements[name].setAttribute('aria-invalid', bad ? 'true' : 'false');
    }
    const texts = [...this.parseProblems.values(), ...[...this.coreProblems.values()].filter((t, i, all) => all.indexOf(t) === i)];
    this.errorBox.hidden = texts.length === 0;
    this.errorBox.textContent = texts.join('\n');
  }
}
