// Ready-made experiments as data: each says which runs it trains from the
// form's settings. Layers are frozen by role (`backbone`: every layer with
// weights but the head; `conv`: the convolutions), so the experiments hold
// for any base model, whatever its layer order; shift names and the
// augmentation preset come from the core's catalog.

import { describeAugment } from './augment-panel.js';
import { augmentPreset, initSpec, optimizerLabel, optimizerSpec, shiftChoice, usualRate } from './catalog.js';

const HEAD_ONLY = ['backbone'];
const CONVS_FROZEN = ['conv'];


// Every experiment uses MNIST; only free training follows the dataset picker.
const MNIST = 'data/mnist.ftld.gz';
const BASE_0_TO_4 = 'models/lenet5-mnist-digits0-4.ftlc';
const BASE_SOURCE_HALF = 'models/lenet5-mnist-source-half.ftlc';
const BASE_FASHION = 'models/lenet5-fashion.ftlc';
const BASE_SKEWED_3 = 'models/lenet5-mnist-skewed3.ftlc';
export const EXPERIMENTS = {
  free: {
    runs: ({ dataset, config, startFrom, startFromLabel }) => [
      {
        name: 'run',
        detail: [startFrom ? `fine-tuned from ${startFromLabel || startFrom}` : config.model, describeAugment(config.augment)].filter(Boolean).join(' · '),
        datasetUrl: dataset,
        config,
        // A base's architecture replaces the model preset; a new head is made when the classes differ.
        ...(startFrom ? { base: { url: startFrom, newHead: false } } : {}),
      },
    ],
  },
  'new-classes': {
    takesK: true, // K labelled images per class, from the form (the sweep chooses its own)
    about: 'Two runs on the same 5 × K images of digits 5–9, seed and budget: LeNet-5 from scratch, and LeNet-5 pretrained on digits 0–4 with a new head for 5–9.',
    // Settings a first-time user sees when picking the experiment (still editable).
    defaults: { model: 'lenet5', epochs: 30, batchSize: 16 },
    runs: ({ config, k }) => newClassRuns(config, k),
  },
  'domain-shift': {
    takesK: true, // K labelled images per class, from the form (the sweep chooses its own)
    about: 'Base: LeNet-5 trained on one half of the MNIST training images. Target: the other half under the chosen shift, K labels per class; validation and test images are shifted too and unseen by both. From scratch, fine-tuned (all layers) and head only. Dashed: the base’s own task (unshifted digits).',
    // A new head learns slowly at 1e-3 when the rest is frozen; 3e-3 gives the head-only runs a fair chance.
    defaults: { model: 'lenet5', epochs: 30, batchSize: 16, lr: 0.003 },
    runs: ({ config, k, shift }) => domainShiftRuns({ ...config, evals_per_epoch: 1 }, k, shift),
  },
  'different-task': {
    takesK: true, // K labelled images per class, from the form (the sweep chooses its own)
    about: 'Base: LeNet-5 trained on Fashion-MNIST (clothes, not digits). Target: all ten digits, K labels per class, new head. From scratch, and fine-tuned with the base frozen (head only), with its convolutions frozen, and with every layer learning.',
    defaults: { model: 'lenet5', epochs: 30, batchSize: 16, lr: 0.003 },
    runs: ({ config, k }) => differentTaskRuns({ ...config, evals_per_epoch: 1 }, k),
  },
  'unfreeze-depth': {
    takesK: true, // K labelled images per class, from the form (the sweep chooses its own)
    about: 'Digits 5–9, K labels per class, from two bases: one trained on digits 0–4 (a near task) and one on Fashion-MNIST (a far task). Each is fine-tuned with only its head learning and with every layer learning: how much does unfreezing help in each case?',
    defaults: { model: 'lenet5', epochs: 30, batchSize: 16, lr: 0.003 },
    runs: ({ config, k }) => unfreezeDepthRuns({ ...config, evals_per_epoch: 1 }, k),
  },
  forgetting: {
    takesK: true, // K labelled images per class, from the form (the sweep chooses its own)
    about: 'The base pretrained on digits 0–4 learns digits 5–9 (K labels per class) three ways. Dashed: its accuracy on its old task, digits 0–4, through its old head on the current backbone.',
    defaults: { model: 'lenet5', epochs: 10, batchSize: 16, lr: 0.003 },
    runs: ({ config, k }) => forgettingRuns(config, k),
  },
  overfitting: {
    about: 'LeNet-5 from scratch on only 200 training images (20 per digit), three ways: as is, with data augmentation, and with dropout + L2. Watch the gap between each run’s training (thin) and validation (thick) curves.',
    defaults: { model: 'lenet5', epochs: 40, batchSize: 16 },
    runs: ({ config }) => overfittingRuns(config),
  },
  initialisation: {
    about: 'Claim 6: a deep MLP (8 hidden layers of 64 units) learns digits with SGD + momentum 0.9 from five starts — ReLU layers with He, Xavier and small uniform weights (±0.001), and tanh layers with Xavier and He. Open “Inside the network”, Layer health: with small weights the activations and gradients vanish layer after layer and nothing learns; He keeps the ReLU layers alive; on tanh, Xavier and He both train.',
    defaults: { model: 'mlp_deep', epochs: 3, batchSize: 32, lr: 0.01 },
    runs: ({ config }) => initialisationRuns(config),
  },
  optimizers: {
    about: 'Claim 7: the same MLP, data and seed trained with SGD, SGD + momentum, Adam, RMSprop and Adagrad, each at the learning rate it is usually started at — and SGD at a rate far too large (with a strong L2 penalty), which diverges: that run stops with its message and keeps its curve while the others train on.',
    defaults: { model: 'mlp', epochs: 3, batchSize: 32 },
    runs: ({ config }) => optimizerRuns(config, null),
  },
  'optimizers-shared-rate': {
    about: 'Claim 7, the other half: the same five optimisers at one shared learning rate (the one in the form). A rate that suits one is far too small or too large for another.',
    defaults: { model: 'mlp', epochs: 3, batchSize: 32, lr: 0.01 },
    runs: ({ config }) => optimizerRuns(config, config.lr),
  },
  'skewed-base': {
    takesK: true, // K labelled images per class, from the form
    about: 'Claim 8: a LeNet-5 pretrained on MNIST with the digit 3 nearly absent (10 of its training images kept) is fine-tuned — every layer, its head kept — on K labelled images of every digit, balanced; beside it the same network from scratch on the same images. “Inside the network” → What it gets wrong shows each digit’s accuracy: is 3 still the weak one after fine-tuning?',
    defaults: { model: 'lenet5', epochs: 20, batchSize: 16 },
    runs: ({ config, k }) => skewedBaseRuns(config, k),
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
// K labels for each of `classCount` classes, in batches of at most the K·classes
// images there are: few-shot runs (K = 1, 2…) are what these experiments are
// for, and the core refuses a batch larger than the training set.
const fewShot = (config, k, classCount) => ({ ...config, labels_per_class: k, batch_size: Math.min(config.batch_size, k * classCount) });

function newClassRuns(config, k) {
  const dataset = MNIST;
  const classes = [5, 6, 7, 8, 9];
  const shared = { ...fewShot(config, k, classes.length), model: 'lenet5' };
  return [
    { name: 'from scratch', detail: `LeNet-5, ${k} labels per class`, datasetUrl: dataset, classes, config: shared },
    { name: 'fine-tuned', detail: 'base: digits 0–4, new head', datasetUrl: dataset, classes, config: shared, base: { url: BASE_0_TO_4, newHead: true } },
  ];
}

// Fine-tune the 0–4 base on digits 5–9 three ways and watch its own task
// (digits 0–4, through its own head) while it learns the new one.
function forgettingRuns(config, k) {
  const dataset = MNIST;
  const classes = [5, 6, 7, 8, 9];
  const shared = fewShot(config, k, classes.length);
  const base = { url: BASE_0_TO_4, newHead: true, sourceClasses: [0, 1, 2, 3, 4] };
  return [
    { name: 'head only', detail: 'every base layer frozen', datasetUrl: dataset, classes, config: { ...shared, freeze_roles: HEAD_ONLY }, base },
    { name: 'convs frozen', detail: 'convolutions frozen', datasetUrl: dataset, classes, config: { ...shared, freeze_roles: CONVS_FROZEN }, base },
    { name: 'all layers', detail: 'nothing frozen', datasetUrl: dataset, classes, config: shared, base },
  ];
}

// The base saw the source half of MNIST's training images; both runs learn
// from K shifted images per class of the other half (src/data/mod.rs TrainPool).
function domainShiftRuns(config, k, shift) {
  const shared = { ...fewShot(config, k, 10), model: 'lenet5', shift, train_pool: 'target' };
  const what = `${shiftChoice(shift.kind).adjective} ${shift.kind === 'rotate' ? `${shift.strength}°` : shift.strength}`;
  // The forgetting meter reads the unshifted digits: all ten classes, the base's own task.
  const base = { url: BASE_SOURCE_HALF, newHead: false, sourceClasses: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] };
  return [
    { name: 'from scratch', detail: `digits ${what}, ${k} labels per class`, datasetUrl: MNIST, config: shared },
    { name: 'fine-tuned', detail: 'base: the other half, unshifted; all layers learn', datasetUrl: MNIST, config: shared, base },
    { name: 'head only', detail: 'base frozen but its last layer', datasetUrl: MNIST, config: { ...shared, freeze_roles: HEAD_ONLY }, base },
  ];
}

function differentTaskRuns(config, k) {
  const shared = { ...fewShot(config, k, 10), model: 'lenet5' };
  const base = { url: BASE_FASHION, newHead: true };
  return [
    { name: 'from scratch', detail: `LeNet-5, ${k} labels per class`, datasetUrl: MNIST, config: shared },
    { name: 'head only', detail: 'Fashion base frozen', datasetUrl: MNIST, config: { ...shared, freeze_roles: HEAD_ONLY }, base },
    { name: 'convs frozen', detail: 'Fashion base, dense layers learn', datasetUrl: MNIST, config: { ...shared, freeze_roles: CONVS_FROZEN }, base },
    { name: 'all layers', detail: 'Fashion base, nothing frozen', datasetUrl: MNIST, config: shared, base },
  ];
}

// Claim 5: the same target (digits 5–9) from a near and a far base, each with
// only the head learning and with every layer learning.
function unfreezeDepthRuns(config, k) {
  const classes = [5, 6, 7, 8, 9];
  const shared = { ...fewShot(config, k, classes.length), model: 'lenet5' };
  const near = { url: BASE_0_TO_4, newHead: true };
  const far = { url: BASE_FASHION, newHead: true };
  const frozen = { ...shared, freeze_roles: HEAD_ONLY };
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
    { name: 'augmentation', detail: 'rotation, zoom, shift, noise, erasing', datasetUrl: dataset, config: { ...shared, dropout: 0, l1: 0, l2: 0, augment: augmentPreset('standard') } },
    { name: 'dropout + L2', detail: 'dropout 0.3, L2 1e-4', datasetUrl: dataset, config: { ...shared, dropout: 0.3, l1: 0, l2: 1e-4, augment: {} } },
  ];
}


// Claim 6: the same deep MLP, data and seed from five initialisations.
function initialisationRuns(config) {
  const shared = { ...config, optimizer: optimizerSpec('momentum') };
  const run = (name, model, init, detail) => ({ name, detail, datasetUrl: MNIST, config: { ...shared, model, init } });
  return [
    run('ReLU, He', 'mlp_deep', initSpec('he-uniform'), 'He uniform: variance 2 / fan-in'),
    run('ReLU, Xavier', 'mlp_deep', initSpec('xavier-uniform'), 'Xavier uniform: variance 2 / (fan-in + fan-out)'),
    run('ReLU, small', 'mlp_deep', initSpec('uniform', 0.001), 'uniform ±0.001'),
    run('tanh, Xavier', 'mlp_deep_tanh', initSpec('xavier-uniform'), 'Xavier uniform'),
    run('tanh, He', 'mlp_deep_tanh', initSpec('he-uniform'), 'He uniform'),
  ];
}

// Claim 7: the optimisers on the same data and seed, each at its usual rate
// (the core's catalog) or all at `sharedLr`; at their usual rates a sixth
// run shows a rate far too large diverging on its own.
function optimizerRuns(config, sharedLr) {
  const names = ['sgd', 'momentum', 'adam', 'rmsprop', 'adagrad'];
  const runs = names.map((name) => {
    const lr = sharedLr ?? usualRate(name);
    return { name: optimizerLabel(name), detail: `learning rate ${lr}`, datasetUrl: MNIST, config: { ...config, optimizer: optimizerSpec(name), lr } };
  });
  if (sharedLr === null) {
    runs.push({ name: 'SGD, far too large', detail: 'learning rate 1 with L2 1000: the weights grow ×999 a step', datasetUrl: MNIST, config: { ...config, optimizer: optimizerSpec('sgd'), lr: 1, l2: 1000 } });
  }
  return runs;
}

// Claim 8: all ten digits, K balanced labels each, from scratch and from the
// base that barely saw a 3.
function skewedBaseRuns(config, k) {
  const shared = { ...fewShot(config, k, 10), model: 'lenet5' };
  return [
    { name: 'from scratch', detail: `LeNet-5, ${k} labels per digit`, datasetUrl: MNIST, config: shared },
    { name: 'fine-tuned', detail: 'base: MNIST with 3 nearly absent; head kept', datasetUrl: MNIST, config: shared, base: { url: BASE_SKEWED_3, newHead: false } },
  ];
}

// Experiments that take K (labelled images per class) from the form.
export const TAKES_K = Object.keys(EXPERIMENTS).filter((name) => EXPERIMENTS[name].takesK);
