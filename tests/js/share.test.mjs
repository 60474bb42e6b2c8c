// Shareable links (www/share.js) with a minimal fake form: the non-default
// settings go into the #hash, a link restores them, and every entry it cannot
// use is named and left at its default.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeForm, applyHash } from '../../www/share.js';

// Just what share.js reads of a form element; `hidden` plays `closest('[hidden]')`.
function select(name, values, defaultValue = values[0], { onChange } = {}) {
  const options = values.map((value) => ({ value, defaultSelected: value === defaultValue }));
  return element({ tagName: 'SELECT', name, options, value: defaultValue, onChange });
}
const input = (name, type, defaultValue, extra = {}) => element({ tagName: 'INPUT', type, name, value: defaultValue, defaultValue, ...extra });
function element({ hidden = false, onChange, ...props }) {
  const el = {
    ...props,
    events: [],
    hidden,
    closest: (selector) => (selector === '[hidden]' && el.hidden ? {} : null),
    dispatchEvent(event) {
      el.events.push(event.type);
      if (event.type === 'change' && onChange) onChange(el);
      return true;
    },
  };
  return el;
}

function fakeForm() {
  const els = {};
  // Picking an experiment fills in its defaults (as the real form does), which the link may override.
  els.experiment = select('experiment', ['free', 'domain-shift'], 'free', {
    onChange: (el) => {
      if (el.value === 'domain-shift') els.lr.value = '0.003';
      els.shiftKind.hidden = el.value !== 'domain-shift';
    },
  });
  els.lr = input('lr', 'number', '0.001');
  els.epochs = input('epochs', 'number', '5');
  els.shiftKind = select('shiftKind', ['rotate', 'blur'], 'rotate');
  els.shiftKind.hidden = true;
  els.rotation = input('aug_rotation_deg', 'range', '0');
  els.upload = input('upload', 'file', '');
  els.note = input('', 'text', 'no name: never shared');
  return { elements: Object.values(els), els };
}

test('an untouched form makes an empty hash', () => {
  assert.equal(encodeForm(fakeForm()), '');
});

test('only non-default, visible, named fields go into the hash', () => {
  const form = fakeForm();
  form.els.lr.value = '0.01';
  form.els.rotation.value = '20';
  form.els.upload.value = 'C:\\fakepath\\x.png';
  form.els.shiftKind.value = 'blur'; // hidden: unused by free training
  assert.equal(encodeForm(form), '#lr=0.01&aug_rotation_deg=20');
});

test('a hash round-trips into a fresh form, the experiment first', () => {
  const form = fakeForm();
  form.els.experiment.value = 'domain-shift';
  form.els.shiftKind.hidden = false;
  form.els.shiftKind.value = 'blur';
  form.els.epochs.value = '7';
  form.els.rotation.value = '20';
  const hash = encodeForm(form);
  assert.equal(hash, '#experiment=domain-shift&epochs=7&shiftKind=blur&aug_rotation_deg=20');

  const fresh = fakeForm();
  // Put the experiment last in the link: it still applies first, so its defaults do not win.
  assert.deepEqual(applyHash(fresh, '#lr=0.05&epochs=7&shiftKind=blur&experiment=domain-shift'), []);
  assert.equal(fresh.els.experiment.value, 'domain-shift');
  assert.equal(fresh.els.lr.value, '0.05', 'the link overrides the experiment’s default');
  assert.equal(fresh.els.shiftKind.value, 'blur');
  assert.equal(fresh.els.epochs.value, '7');
  assert.deepEqual(applyHash(fakeForm(), hash), []);
});

test('applied fields fire change (and input for sliders), as a user’s edit would', () => {
  const form = fakeForm();
  applyHash(form, '#epochs=9&aug_rotation_deg=10');
  assert.deepEqual(form.els.epochs.events, ['change']);
  assert.deepEqual(form.els.rotation.events, ['change', 'input']);
  assert.deepEqual(form.els.lr.events, []);
});

test('a garbled link names every entry it could not use and keeps the rest', () => {
  const form = fakeForm();
  const problems = applyHash(form, '#experiment=nonsense&lr=abc&colour=blue&epochs=7&aug_rotation_deg=');
  assert.deepEqual(problems, [
    '“nonsense” is not a choice for experiment',
    'lr must be a number, not “abc”',
    'unknown setting “colour”',
    'aug_rotation_deg must be a number, not “”',
  ]);
  assert.equal(form.els.experiment.value, 'free');
  assert.equal(form.els.lr.value, '0.001');
  assert.equal(form.els.epochs.value, '7');
});

test('no hash, an empty one, or one that is not settings', () => {
  assert.deepEqual(applyHash(fakeForm(), ''), []);
  assert.deepEqual(applyHash(fakeForm(), '#'), []);
  assert.match(applyHash(fakeForm(), '#section-2')[0], /could not be read \(“#section-2”\)/);
  assert.match(applyHash(fakeForm(), '#%E0%A4%A')[0], /could not be read/);
});
