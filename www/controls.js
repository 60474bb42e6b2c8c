// The configuration form: reads it into a run configuration (the core's
// TrainConfig), validating each field so a typo is caught before a run starts.

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
};

// Ready-made experiments: the runs they train, from the form's settings.
const BASE_0_TO_4 = 'models/lenet5-mnist-digits0-4.ftlc';
const EXPERIMENTS = {
  free: {
    runs: (dataset, config, _k, startFrom) => [
      {
        name: 'run',
        detail: startFrom ? `fine-tuned from ${startFrom}` : config.model,
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
    runs: (dataset, config, k) => newClassRuns(dataset, config, k),
  },
  forgetting: {
    about: 'The base pretrained on digits 0–4 learns digits 5–9 (K labels per class) three ways. Dashed: its accuracy on its old task, digits 0–4, through its old head on the current backbone.',
    defaults: { model: 'lenet5', epochs: 10, batchSize: 16, lr: 0.003 },
    runs: (dataset, config, k) => forgettingRuns(dataset, config, k),
  },
  overfitting: {
    about: 'LeNet-5 from scratch on only 200 training images (20 per digit), three ways: as is, with data augmentation, and with dropout + L2. Watch the gap between each run’s training (thin) and validation (thick) curves.',
    defaults: { model: 'lenet5', epochs: 40, batchSize: 16 },
    runs: (dataset, config) => overfittingRuns(dataset, config),
  },
  'data-economy': {
    about: 'For K = 1 … 200 labelled images per class of digits 5–9: train from scratch and fine-tune the 0–4 base, same data, seed and epochs; the final test accuracies go on the log-scale chart.',
    defaults: { model: 'lenet5', epochs: 20, batchSize: 16 },
    // One pair of runs per K, evaluated once per epoch to keep the sweep quick.
    sweep: (dataset, config) => (k) => newClassRuns(dataset, { ...config, evals_per_epoch: 1 }, k),
  },
};

// Digits 5–9 with K labels per class: LeNet-5 from scratch, and LeNet-5
// pretrained on digits 0–4 with a new head — same data, seed and budget.
function newClassRuns(dataset, config, k) {
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
function forgettingRuns(dataset, config, k) {
  const shared = { ...config, labels_per_class: k };
  const base = { url: BASE_0_TO_4, newHead: true, sourceClasses: [0, 1, 2, 3, 4] };
  const classes = [5, 6, 7, 8, 9];
  return [
    { name: 'head only', detail: 'every base layer frozen', datasetUrl: dataset, classes, config: { ...shared, freeze: [0, 3, 7, 9] }, base },
    { name: 'convs frozen', detail: 'convolutions frozen', datasetUrl: dataset, classes, config: { ...shared, freeze: [0, 3] }, base },
    { name: 'all layers', detail: 'nothing frozen', datasetUrl: dataset, classes, config: shared, base },
  ];
}

// The core's AugmentConfig::standard() (src/data/augment.rs), for digits.
const STANDARD_AUGMENTATION = {
  rotation_deg: 12, rotation_p: 0.8, zoom: 0.1, zoom_p: 0.8, translate: 0.1, translate_p: 0.8,
  noise_std: 0.05, noise_p: 0.3, erase_area: 0.15, erase_p: 0.3,
};

// 200 training images (20 per digit), LeNet-5 from scratch: as is, with
// augmentation, and with dropout + L2 — the train/validation gap side by side.
function overfittingRuns(dataset, config) {
  const shared = { ...config, model: 'lenet5', train_limit: 200, evals_per_epoch: 1 };
  return [
    { name: 'no regularisation', detail: '200 images', datasetUrl: dataset, config: { ...shared, dropout: 0, l1: 0, l2: 0 } },
    { name: 'augmentation', detail: 'rotation, zoom, shift, noise, erasing', datasetUrl: dataset, config: { ...shared, dropout: 0, l1: 0, l2: 0, augment: STANDARD_AUGMENTATION } },
    { name: 'dropout + L2', detail: 'dropout 0.3, L2 1e-4', datasetUrl: dataset, config: { ...shared, dropout: 0.3, l1: 0, l2: 1e-4 } },
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
    this.updateExperimentFields();
  }

  updateExperimentFields() {
    const experiment = this.form.elements.experiment.value;
    for (const el of this.form.querySelectorAll('.scenario-only')) el.hidden = experiment === 'free';
    this.form.querySelector('.scenario-note').textContent = EXPERIMENTS[experiment].about || '';
    // The sweep chooses K itself.
    for (const el of this.form.querySelectorAll('.k-only')) el.hidden = !['new-classes', 'forgetting'].includes(experiment);
    // Experiments choose their own starting points.
    this.form.elements.startFrom.closest('label').hidden = experiment !== 'free';
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
  // after showing what is wrong.
  read() {
    const f = this.form.elements;
    const values = {};
    const problems = [];
    for (const [name, [label, check]] of Object.entries(NUMBER_FIELDS)) {
      const input = f[name];
      const raw = input.value.trim();
      const value = Number(raw);
      // A number input reports text it cannot parse as an empty value with validity.badInput set.
      let problem;
      if (input.validity && input.validity.badInput) problem = 'is not a number';
      else if (raw === '') problem = 'is empty';
      else if (!Number.isFinite(value)) problem = `is not a number (got “${raw}”)`;
      else problem = check(value);
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
    };
    const experiment = EXPERIMENTS[f.experiment.value];
    if (experiment.sweep) return { sweep: experiment.sweep(f.dataset.value, config) };
    return { runs: experiment.runs(f.dataset.value, config, values.labelsPerClass, f.startFrom.value) };
  }
}
