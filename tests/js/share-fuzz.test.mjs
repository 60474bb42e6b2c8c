// Random links against the link reader (www/share.js), with fast-check: any
// hash at all — garbled percent-encoding, unknown names, HTML, huge numbers —
// returns a list of problems and never throws; the form only ever takes a
// value its field allows; and any state the form can hold survives its own
// link. Property-based (random, shrinking to a minimal failing link), not
// coverage-guided: the reader is small and has no parser state to explore.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeForm, applyHash } from '../../www/share.js';

const CHOICES = { experiment: ['free', 'domain-shift'], optimizer: ['sgd', 'adam', 'momentum'] };
const NUMBERS = { lr: '0.001', epochs: '5', aug_rotation_deg: '0' };

// The fields share.js reads: selects with options, number inputs with defaults.
function form() {
  const element = (props) => ({ ...props, closest: () => null, dispatchEvent: () => true });
  const els = [
    ...Object.entries(CHOICES).map(([name, values]) => element({ tagName: 'SELECT', name, value: values[0], options: values.map((value, i) => ({ value, defaultSelected: i === 0 })) })),
    ...Object.entries(NUMBERS).map(([name, value]) => element({ tagName: 'INPUT', type: 'number', name, value, defaultValue: value })),
  ];
  return { elements: els, byName: Object.fromEntries(els.map((el) => [el.name, el])) };
}

const allowed = (el) => (el.tagName === 'SELECT' ? el.options.some((o) => o.value === el.value) : el.value.trim() !== '' && Number.isFinite(Number(el.value)));

// Pieces links are made of, so random links look like real ones often enough to reach every branch.
const name = fc.oneof(fc.constantFrom(...Object.keys(CHOICES), ...Object.keys(NUMBERS)), fc.string({ maxLength: 12 }));
const value = fc.oneof(
  fc.constantFrom(...Object.values(CHOICES).flat(), '1e309', '-0', 'NaN', 'Infinity', ' ', '<img src=x onerror=alert(1)>', '%', '%E0%A4%A', '0x10'),
  fc.double().map(String),
  fc.string({ maxLength: 20 }),
);
const link = fc.oneof(
  fc.string({ maxLength: 80 }).map((s) => `#${s}`),
  fc.array(fc.tuple(name, value), { maxLength: 6 }).map((pairs) => `#${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`),
  fc.array(fc.tuple(name, value), { maxLength: 6 }).map((pairs) => `#${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`),
);

test('any link is read without throwing, and the form only takes values its fields allow', () => {
  fc.assert(
    fc.property(link, (hash) => {
      const f = form();
      const problems = applyHash(f, hash);
      assert.ok(Array.isArray(problems) && problems.every((p) => typeof p === 'string'));
      for (const el of f.elements) assert.ok(allowed(el), `${el.name} took “${el.value}” from ${hash}`);
    }),
    { numRuns: 20_000 },
  );
});

test('every state the form can hold comes back from its own link, with no problems', () => {
  const state = fc.record({
    experiment: fc.constantFrom(...CHOICES.experiment),
    optimizer: fc.constantFrom(...CHOICES.optimizer),
    lr: fc.double({ min: 1e-6, max: 10, noNaN: true }).map(String),
    epochs: fc.integer({ min: 1, max: 200 }).map(String),
    aug_rotation_deg: fc.integer({ min: 0, max: 45 }).map(String),
  });
  fc.assert(
    fc.property(state, (s) => {
      const source = form();
      for (const [k, v] of Object.entries(s)) source.byName[k].value = v;
      const target = form();
      assert.deepEqual(applyHash(target, encodeForm(source)), []);
      for (const [k, v] of Object.entries(s)) assert.equal(target.byName[k].value, v);
    }),
    { numRuns: 5_000 },
  );
});
