// The page's use of the core's catalog, checked against the core itself: the
// page's wasm build (www/pkg, made by `make build`) is loaded into Node, its
// `catalog()` feeds www/catalog.js as the worker's `ready` would, and every
// run the experiments build must pass the core's own `validateConfig`. So an
// experiment asking for a role, a preset or a value the core does not know
// fails here, without a browser.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { setCatalog, initSpec, limit, optimizerSpec, scheduleSpec, shiftChoice, augmentPreset, choicesFor } from '../../www/catalog.js';
import { EXPERIMENTS, TAKES_K } from '../../www/experiments.js';
import { NUMBER_FIELDS } from '../../www/controls.js';

const pkg = new URL('../../www/pkg/', import.meta.url);
let core;

before(async () => {
  core = await import(new URL('finetune_lab.js', pkg));
  core.initSync({ module: readFileSync(fileURLToPath(new URL('finetune_lab_bg.wasm', pkg))) });
  setCatalog(core.catalog());
});

// What the form would send with its defaults.
function formConfig() {
  return {
    model: 'lenet5',
    init: initSpec('he-uniform'),
    optimizer: optimizerSpec('adam'),
    lr: limit('lr').default,
    batch_size: limit('batch_size').default,
    epochs: limit('epochs').default,
    l1: 0,
    l2: 0,
    dropout: 0,
    seed: 1,
    evals_per_epoch: 4,
    schedule: scheduleSpec('constant'),
    early_stopping: null,
    unfreeze_every: null,
    pretrained_lr: limit('pretrained_lr').default,
    augment: {},
  };
}

test('every experiment builds runs the core accepts', () => {
  for (const [name, experiment] of Object.entries(EXPERIMENTS)) {
    const args = { dataset: 'data/mnist.ftld.gz', config: formConfig(), k: 10, startFrom: '', shift: { kind: 'blur', strength: shiftChoice('blur').strength.default } };
    const runs = experiment.sweep ? experiment.sweep(args)(1) : experiment.runs(args);
    assert.ok(runs.length >= 1, name);
    for (const run of runs) {
      assert.deepEqual(core.validateConfig(run.config), [], `${name} / ${run.name}`);
    }
    if (TAKES_K.includes(name)) assert.ok(runs.every((r) => r.config.labels_per_class === 10), `${name} takes K from the form`);
  }
});

test('experiments freeze by the roles the core names', () => {
  const roles = new Set(core.catalog().roles);
  const frozen = EXPERIMENTS.forgetting.runs({ config: formConfig(), k: 5 }).flatMap((r) => r.config.freeze_roles || []);
  assert.ok(frozen.length > 0);
  for (const role of frozen) assert.ok(roles.has(role), role);
  const lenet = core.catalog().models.find((m) => m.name === 'lenet5');
  assert.deepEqual(
    lenet.layers.filter((l) => l.role).map((l) => l.role),
    ['conv', 'conv', 'dense', 'dense', 'head'],
  );
});

test('the core rejects what is out of range and names the field the form marks', () => {
  const problems = core.validateConfig({ ...formConfig(), dropout: 1.5, lr: 0, shift: { kind: 'blur', strength: 1.5 } });
  const fields = problems.map((p) => p.field);
  assert.deepEqual(fields.sort(), ['dropout', 'lr', 'shift.strength']);
  for (const p of problems) {
    const input = Object.entries(NUMBER_FIELDS).find(([, f]) => f.field === p.field);
    assert.ok(input, `the form has an input for ${p.field}`);
  }
  assert.equal(problems.find((p) => p.field === 'dropout').rule, 'must be at least 0 and below 1');
  // A number that does not even fit its field's type is still named by its field.
  const wrongType = core.validateConfig({ ...formConfig(), epochs: 2.5, batch_size: -1 });
  assert.deepEqual(wrongType.map((p) => [p.field, p.rule]), [
    ['batch_size', 'must be a whole number ≥ 0'],
    ['epochs', 'must be a whole number from 1 to 200'],
  ]);
  const [unknown] = core.validateConfig({ ...formConfig(), colour: 'red' });
  assert.equal(unknown.field, null);
  assert.match(unknown.message, /unknown field `colour`/);
});

test('every number field of the form has a range in the catalog, and its default is allowed', () => {
  for (const [name, { field }] of Object.entries(NUMBER_FIELDS)) {
    const range = limit(field, 'rotate');
    assert.ok(range, `${name} → ${field}`);
    if (range.default !== null) {
      const problems = core.validateConfig({ ...formConfig(), ...(field.includes('.') ? {} : { [field]: range.default }) });
      assert.deepEqual(problems, [], `${field} default ${range.default}`);
    }
  }
});

test('the plain random initialisers take the scale in their own field', () => {
  assert.deepEqual(initSpec('uniform', 0.2), { kind: 'uniform', scale: 0.2 });
  assert.deepEqual(initSpec('normal', 0.2), { kind: 'normal', std: 0.2 });
  assert.deepEqual(initSpec('xavier-normal', 0.2), { kind: 'xavier_normal' });
  assert.deepEqual(core.validateConfig({ ...formConfig(), init: initSpec('normal', -1) }).map((p) => p.field), ['init.std']);
  assert.ok(choicesFor('optimizer').some((c) => c.name === 'rmsprop'));
  assert.ok(augmentPreset('standard').rotation_p > 0);
  assert.throws(() => optimizerSpec('lion'), /unknown optimiser “lion”/);
});
