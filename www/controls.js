// The configuration form: reads it into a run configuration (the core's
// TrainConfig), validating each field so a typo is caught before a run starts.

import { STANDARD_AUGMENTATION, describeAugment } from './augment-panel.js';

const OPTIMIZERS = {
  sgd: { kind: 'sgd', momentum: 0, nesterov: false },
  momentum: { kind: 'sgd', momentum: 0.9, nesterov: false },
  nesterov: { kind: 'sgd', momentum: 0.9, nesterov: true },
  adam: { kind: 'adam' },
  rmsprop: { kind: 'rmsprop' },
  adagrad: { kind: 'adagrad' },
};

const INITS = {
  'he-uniform': () => ({ kind: 'he_uniform' }),
  'he-normal': () => ({ kind: 'he_normal' }),
  'xavier-uniform': () => ({ kind: 'xavier_uniform' }),
  'xavier-normal': () => ({ kind: 'xavier_normal' }),
  uniform: (scale) => ({ kind: 'uniform', scale }),
  normal: (scale) => ({ kind: 'normal', std: scale }),
};

// Field → [label, check(value) → error or null]
const NUMBER_FIELDS = {
  lr: ['Learning rate', (v) => (v > 0 ? null : 'must be greater than 0')],
  batchSize: ['Batch size', (v) => (Number.isInteger(v) && v >= 0 ? null : 'must be a whole number ≥ 0')],
  epochs: ['Epochs', (v) => (Number.isInteger(v) && v >= 1 && v <= 200 ? null : 'must be a whole number from 1 to 200')],
  l1: ['L1', (v) => (v >= 0 ? null : 'must be ≥ 0')],
  l2: ['L2', (v) => (v >= 0 ? null : 'must be ≥ 0')],
  dropout: ['Dropout', (v) => (v >= 0 && v < 1 ? null : 'must be at least 0 and below 1')],
  seed: ['Seed', (v) => (Number.isSafeInteger(v) && v >= 0 ? null : 'must be a whole number ≥ 0')],
  initScale: ['Scale', (v) => (v >= 0 ? null : 'must be ≥ 0')],
  labelsPerClass: ['Labelled images per class', (v) => (Number.isInteger(v) && v >= 1 && v <= 500 ? null : 'must be a whole number from 1 to 500')],
  earlyStopping: ['Early stopping patience', (v) => (Number.isInteger(v) && v >= 0 && v <= 100 ? null : 'must be a whole number from 0 (off) to 100')],
  unfreezeEvery: ['Gradual unfreezing', (v) => (Number.isInteger(v) && v >= 0 && v <= 200 ? null : 'must be a whole number of epochs from 0 (off) to 200')],
  pretrainedLr: ['Pretrained layers’ rate', (v) => (v >= 0 && v <= 10 ? null : 'must be a multiplier from 0 to 10')],
  shiftStrength: ['Shift strength', (v, f) => SHIFTS[f.shiftKind.value].check(v)],
};

// The core's learning-rate schedules (src/optim/schedule.rs).
const SCHEDULES = {
  constant: { kind: 'constant' },
  step: { kind: 'step', every_epochs: 2, factor: 0.5 },
  cosine: { kind: 'cosine', min_factor: 0 },
  warmup: { kind: 'warmup', epochs: 1 },
  'one-cycle': { kind: 'one_cycle' },
};

// Domain shifts (src/data/shift.rs): a sensible default strength and its range.
const range = (low, high, unit, whole = false) => (v) =>
  v >= low && v <= high && (!whole || Number.isInteger(v)) ? null : `must be ${whole ? 'a whole number ' : ''}from ${low} to ${high}${unit}`;
export const SHIFTS = {
  rotate: { label: 'rotated', strength: 45, check: range(-180, 180, ' degrees') },
  invert: { label: 'inverted', strength: 1, check: range(0, 1, ' (1 = fully inverted)') },
  noise: { label: 'noisy', strength: 0.3, check: range(0, 1, ' (noise standard deviation)') },
  clutter: { label: 'cluttered', strength: 2, check: range(0, 5, ' (tens of line segments)') },
  blur: { label: 'blurred', strength: 1, check: range(0, 3, ' pixels', true) },
  thicken: { label: 'thickened strokes', strength: 1, check: range(0, 3, ' pixels', true) },
};

// Ready-made experiments: the runs they train, from the form's settings.
// Every experiment uses MNIST; only free training follows the dataset picker.
const MNIST = 'data/mnist.ftld.gz';
const BASE_0_TO_4 = 'models/lenet5-mnist-digits0-4.ftlc';
const BASE_SOURCE_HALF = 'models/lenet5-mnist-source-half.ftlc';
const BASE_FASHION = 'models/lenet5-fashion.ftlc';
const EXPERIMENTS = {
  free: {
    runs: ({ dataset, config, startFrom }) => [
      {
        name: 'run',
        detail: [startFrom ? `fine-tuned from ${startFrom}` : config.model, describeAugment(config.augment)].filter(Boolean).join(' · '),
        datasetUrl: dataset,
        config,
        // A base's architecture replaces the model preset; a new head is made when the classes differ.
        ...(startFrom ? { base: { url: startFrom, newHead: false } } : {}),
      },
    ],
  },
  'new-classes': {
    about: 'Two runs on the same 5 × K images of digits 5–9, seed and budget: LeNet-5 from scratch, and LeNet-5 pretrained on digits 0–4 with a new head for 5–9.',
    // Settings a first-time user sees when picking the experiment (still editable).
    defaults: { model: 'lenet5', epochs: 30, batchSize: 16 },
    runs: ({ config, k }) => newClassRuns(config, k),
  },
  'domain-shift': {
    about: 'Base: LeNet-5 trained on one half of the MNIST training images. Target: the other half under the chosen shift, K labels per class; validation and test images are shifted too and unseen by both. From scratch, fine-tuned (all layers) and head only. Dashed: the base’s own task (unshifted digits).',
    // A new head learns slowly at 1e-3 when the rest is frozen; 3e-3 gives the head-only runs a fair chance.
    defaults: { model: 'lenet5', epochs: 30, batchSize: 16, lr: 0.003 },
    runs: ({ config, k, shift }) => domainShiftRuns({ ...config, evals_per_epoch: 1 }, k, shift),
  },
  'different-task': {
    about: 'Base: LeNet-5 trained on Fashion-MNIST (clothes, not digits). Target: all ten digits, K labels per class, new head. From scratch, and fine-tuned with the base frozen (head only), with its convolutions frozen, and with every layer learning.',
    defaults: { model: 'lenet5', epochs: 30, batchSize: 16, lr: 0.003 },
    runs: ({ config, k }) => differentTaskRuns({ ...config, evals_per_epoch: 1 }, k),
  },
  'unfreeze-depth': {
    about: 'Digits 5–9, K labels per class, from two bases: one trained on digits 0–4 (a near task) and one on Fashion-MNIST (a far task). Each is fine-tuned with only its head learning and with every layer learning: how much does unfreezing help in each case?',
    defaults: { model: 'lenet5', epochs: 30, batchSize: 16, lr: 0.003 },
    runs: ({ config, k }) => unfreezeDepthRuns({ ...config, evals_per_epoch: 1 }, k),
  },
  forgetting: {
    about: 'The base pretrained on digits 0–4 learns digits 5–9 (K labels per class) three ways. Dashed: its accuracy on its old task, digits 0–4, through its old head on the current backbone.',
    defaults: { model: 'lenet5', epochs: 10, batchSize: 16, lr: 0.003 },
    runs: ({ config, k }) => forgettingRuns(config, k),
  },
  overfitting: {
    about: 'LeNet-5 from scratch on only 200 training images (20 per digit), three ways: as is, with data augmentation, and with dropout + L2. Watch the gap between each run’s training (thin) and validation (thick) curves.',
    defaults: { model: 'lenet5', epochs: 40, batchSize: 16 },
    runs: ({ config }) => overfittingRuns(config),
  },
  'data-economy': {
    about: 'For K = 1 … 200 labelled images per class of digits 5–9: train from scratch and fine-tune the 0–4 base, same data, seed and epochs; the final test accuracies go on the log-scale chart.',
    defaults: { model: 'lenet5', epochs: 20, batchSize: 16 },
    // One pair of runs per K, evaluated once per epoch to keep the sweep quick.
    sweep: ({ config }) => (k) => newClassRuns({ ...config, evals_per_epoch: 1 }, k),
  },
};

// Digits 5–9 with K labels per class: LeNet-5 from scratch, and LeNet-5
// pretrained on digits 0–4 with a new head — same data, seed and budget.
function newClassRuns(config, k) {
  const dataset = MNIST;
  const shared = { ...config, model: 'lenet5', labels_per_class: k };
  const classes = [5, 6, 7, 8, 9];
  return [
    { name: 'from scratch', detail: `LeNet-5, ${k} labels per class`, datasetUrl: dataset, classes, config: shared },
    { name: 'fine-tuned', detail: 'base: digits 0–4, new head', datasetUrl: dataset, classes, config: shared, base: { url: BASE_0_TO_4, newHead: true } },
  ];
}

// Fine-tune the 0–4 base on digits 5–9 three ways and watch its own task
// (digits 0–4, through its own head) while it learns the new one. Layer
// indices are LeNet-5's as the base checkpoint stores it: convolutions 0 and 3,
// dense layers 7 and 9, head 11.
function forgettingRuns(config, k) {
  const dataset = MNIST;
  const shared = { ...config, labels_per_class: k };
  const base = { url: BASE_0_TO_4, newHead: true, sourceClasses: [0, 1, 2, 3, 4] };
  const classes = [5, 6, 7, 8, 9];
  return [
    { name: 'head only', detail: 'every base layer frozen', datasetUrl: dataset, classes, config: { ...shared, freeze: [0, 3, 7, 9] }, base },
    { name: 'convs frozen', detail: 'convolutions frozen', datasetUrl: dataset, classes, config: { ...shared, freeze: [0, 3] }, base },
    { name: 'all layers', detail: 'nothing frozen', datasetUrl: dataset, classes, config: shared, base },
  ];
}

// The base saw the source half of MNIST's training images; both runs learn
// from K shifted images per class of the other half (src/data/mod.rs TrainPool).
function domainShiftRuns(config, k, shift) {
  const shared = { ...config, model: 'lenet5', labels_per_class: k, shift, train_pool: 'target' };
  const what = `${SHIFTS[shift.kind].label} ${shift.kind === 'rotate' ? `${shift.strength}°` : shift.strength}`;
  // The forgetting meter reads the unshifted digits: all ten classes, the base's own task.
  const base = { url: BASE_SOURCE_HALF, newHead: false, sourceClasses: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] };
  return [
    { name: 'from scratch', detail: `digits ${what}, ${k} labels per class`, datasetUrl: MNIST, config: shared },
    { name: 'fine-tuned', detail: 'base: the other half, unshifted; all layers learn', datasetUrl: MNIST, config: shared, base },
    { name: 'head only', detail: 'base frozen but its last layer', datasetUrl: MNIST, config: { ...shared, freeze: [0, 3, 7, 9] }, base },
  ];
}

function differentTaskRuns(config, k) {
  const shared = { ...config, model: 'lenet5', labels_per_class: k };
  const base = { url: BASE_FASHION, newHead: true };
  return [
    { name: 'from scratch', detail: `LeNet-5, ${k} labels per class`, datasetUrl: MNIST, config: shared },
    { name: 'head only', detail: 'Fashion base frozen', datasetUrl: MNIST, config: { ...shared, freeze: [0, 3, 7, 9] }, base },
    { name: 'convs frozen', detail: 'Fashion base, dense layers learn', datasetUrl: MNIST, config: { ...shared, freeze: [0, 3] }, base },
    { name: 'all layers', detail: 'Fashion base, nothing frozen', datasetUrl: MNIST, config: shared, base },
  ];
}

// Claim 5: the same target (digits 5–9) from a near and a far base, each with
// only the head learning and with every layer learning.
function unfreezeDepthRuns(config, k) {
  const shared = { ...config, model: 'lenet5', labels_per_class: k };
  const classes = [5, 6, 7, 8, 9];
  const near = { url: BASE_0_TO_4, newHead: true };
  const far = { url: BASE_FASHION, newHead: true };
  const frozen = { ...shared, freeze: [0, 3, 7, 9] };
  return [
    { name: 'near, head only', detail: 'base: digits 0–4', datasetUrl: MNIST, classes, config: frozen, base: near },
    { name: 'near, all layers', detail: 'base: digits 0–4', datasetUrl: MNIST, classes, config: shared, base: near },
    { name: 'far, head only', detail: 'base: Fashion-MNIST', datasetUrl: MNIST, classes, config: frozen, base: far },
    { name: 'far, all layers', detail: 'base: Fashion-MNIST', datasetUrl: MNIST, classes, config: shared, base: far },
  ];
}

// 200 training images (20 per digit), LeNet-5 from scratch: as is, with
// augmentation, and with dropout + L2 — the train/validation gap side by side.
function overfittingRuns(config) {
  const dataset = MNIST;
  const shared = { ...config, model: 'lenet5', train_limit: 200, evals_per_epoch: 1 };
  return [
    { name: 'no regularisation', detail: '200 images', datasetUrl: dataset, config: { ...shared, dropout: 0, l1: 0, l2: 0, augment: {} } },
    { name: 'augmentation', detail: 'rotation, zoom, shift, noise, erasing', datasetUrl: dataset, config: { ...shared, dropout: 0, l1: 0, l2: 0, augment: STANDARD_AUGMENTATION } },
    { name: 'dropout + L2', detail: 'dropout 0.3, L2 1e-4', datasetUrl: dataset, config: { ...shared, dropout: 0.3, l1: 0, l2: 1e-4, augment: {} } },
  ];
}

export class Controls {
  constructor(form) {
    this.form = form;
    this.errorBox = form.querySelector('[data-testid="form-error"]');
    this.scaleField = form.querySelector('.init-scale');
    form.elements.init.addEventListener('change', () => this.updateScaleVisibility());
    this.updateScaleVisibility();
    form.elements.experiment.addEventListener('change', () => this.applyExperiment());
    form.elements.shiftKind.addEventListener('change', () => {
      form.elements.shiftStrength.value = SHIFTS[form.elements.shiftKind.value].strength;
    });
    this.updateExperimentFields();
  }

  isFree() {
    return this.form.elements.experiment.value === 'free';
  }

  updateExperimentFields() {
    const experiment = this.form.elements.experiment.value;
    for (const el of this.form.querySelectorAll('.scenario-only')) el.hidden = experiment === 'free';
    this.form.querySelector('.scenario-note').textContent = EXPERIMENTS[experiment].about || '';
    // The sweep chooses K itself.
    for (const el of this.form.querySelectorAll('.k-only')) el.hidden = !['new-classes', 'forgetting', 'domain-shift', 'different-task', 'unfreeze-depth'].includes(experiment);
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

  updateScaleVisibility() {
    const init = this.form.elements.init.value;
    this.scaleField.hidden = !(init === 'uniform' || init === 'normal');
  }

  onChange(callback) {
    this.form.addEventListener('input', callback);
    this.form.addEventListener('change', callback);
  }

  // Returns {runs} to configure, or {sweep: k → runs} for a sweep, or null
  // after showing what is wrong. `layers` ({freeze, layer_lr}) are the layers
  // panel's choices, used by free training (experiments define their own);
  // `augment` (an AugmentConfig) applies to every run alike.
  read(layers = { freeze: [], layer_lr: [] }, augment = {}) {
    const f = this.form.elements;
    const values = {};
    const problems = [];
    for (const [name, [label, check]] of Object.entries(NUMBER_FIELDS)) {
      const input = f[name];
      // A field this experiment hides is not used, so it cannot be wrong.
      if (input.closest('[hidden]')) continue;
      const raw = input.value.trim();
      const value = Number(raw);
      // A number input reports text it cannot parse as an empty value with validity.badInput set.
      let problem;
      if (input.validity && input.validity.badInput) problem = 'is not a number';
      else if (raw === '') problem = 'is empty';
      else if (!Number.isFinite(value)) problem = `is not a number (got “${raw}”)`;
      else problem = check(value, f);
      input.setAttribute('aria-invalid', problem ? 'true' : 'false');
      if (problem) problems.push(`${label} ${problem}.`);
      values[name] = value;
    }
    this.errorBox.hidden = problems.length === 0;
    this.errorBox.textContent = problems.join('\n');
    if (problems.length) return null;
    const config = {
      model: f.model.value,
      init: INITS[f.init.value](values.initScale),
      optimizer: OPTIMIZERS[f.optimizer.value],
      lr: values.lr,
      batch_size: values.batchSize,
      epochs: values.epochs,
      l1: values.l1,
      l2: values.l2,
      dropout: values.dropout,
      seed: values.seed,
      evals_per_epoch: 4,
      schedule: SCHEDULES[f.schedule.value],
      early_stopping: values.earlyStopping || null,
      unfreeze_every: values.unfreezeEvery || null,
      pretrained_lr: values.pretrainedLr,
      augment,
    };
    const experiment = EXPERIMENTS[f.experiment.value];
    const args = {
      dataset: f.dataset.value,
      config: this.isFree() ? { ...config, ...layers } : config,
      k: values.labelsPerClass,
      startFrom: f.startFrom.value,
      shift: { kind: f.shiftKind.value, strength: values.shiftStrength },
    };
    if (experiment.sweep) return { sweep: experiment.sweep(args) };
    return { runs: experiment.runs(args) };
  }
}
