// The URL-state table: everything a run depends on, and the classroom
// options, as `#name=value&…` in the page's address, both ways. One entry
// per key: {name, type, default, read(), parse(text) → value (throws a
// problem), write(value), where}. Every named field of the form is an entry
// made from the element itself (its choices are the core's catalog, so a new
// optimiser or preset needs no edit here); the page adds entries for what
// lives outside the form (per-layer choices, the x-axis, the classroom
// options). Only values that differ from their default go into a link.
// Reading a link checks every entry; anything unknown or invalid is named
// and left at its default — a garbled link never breaks the page.

const PREFIX = '#';

function fields(form) {
  return [...form.elements].filter((el) => el.name && (el.tagName === 'SELECT' || el.tagName === 'INPUT') && el.type !== 'file');
}

const defaultOf = (el) => (el.tagName === 'SELECT' ? [...el.options].find((o) => o.defaultSelected)?.value ?? el.options[0]?.value : el.defaultValue);

// Where a field is on the page, in its section's and its label's words ("Optimisation › Learning rate").
function placeOf(el) {
  const legend = el.closest('fieldset')?.querySelector('legend')?.firstChild?.textContent?.trim();
  const label = el.closest('label')?.firstChild?.textContent?.trim();
  return [legend, label].filter(Boolean).join(' › ') || el.name;
}

// A problem with one entry's value, worded for the page.
export class LinkProblem extends Error {}

// A form field as a table entry. A field the experiment does not use (inside
// a `hidden` element) is left out of links.
function fieldEntry(el) {
  const select = el.tagName === 'SELECT';
  return {
    name: el.name,
    type: select ? 'choice' : 'number',
    default: defaultOf(el),
    where: placeOf(el),
    unused: () => Boolean(el.closest('[hidden]')),
    read: () => el.value,
    parse(text) {
      if (select && ![...el.options].some((o) => o.value === text)) throw new LinkProblem(`“${text}” is not a choice for ${el.name}`);
      if (!select && (el.type === 'number' || el.type === 'range') && (text.trim() === '' || !Number.isFinite(Number(text)))) {
        throw new LinkProblem(`${el.name} must be a number, not “${text}”`);
      }
      return text;
    },
    write(value) {
      el.value = value;
      el.dispatchEvent(new Event('change', { bubbles: true }));
      if (el.type === 'range') el.dispatchEvent(new Event('input', { bubbles: true }));
    },
  };
}

// The whole table: the form's fields, then the page's own entries.
export const stateTable = (form, extras = []) => [...fields(form).map(fieldEntry), ...extras];

// The table's non-default values as a URL hash ('' when everything is default).
export function encodeState(table) {
  const params = new URLSearchParams();
  for (const entry of table) {
    if (entry.unused && entry.unused()) continue;
    const value = entry.read();
    if (value !== entry.default) params.set(entry.name, value);
  }
  const text = params.toString();
  return text ? PREFIX + text : '';
}

// Applies a hash; returns the problems found (empty when all is well). The
// experiment goes first (picking one fills in its defaults, which the link
// may then override), entries the page marks `late` (per-layer choices,
// which a model change forgets) last.
//
// With `reset`, every entry the link leaves out goes back to its default
// first, so a new link (hashchange) gives exactly its own settings.
export function applyState(table, hash, { reset = false } = {}) {
  const problems = [];
  if (reset) {
    const named = new URLSearchParams(hash && hash.startsWith(PREFIX) ? hash.slice(1) : '');
    for (const entry of table) if (!named.has(entry.name) && entry.read() !== entry.default) entry.write(entry.parse(entry.default));
  }
  if (!hash || hash === PREFIX) return problems;
  let params;
  try {
    params = new URLSearchParams(decodeURIComponent(hash.slice(1)).includes('=') ? hash.slice(1) : '');
  } catch {
    return [`the link's settings could not be read (${hash.slice(0, 40)}…)`];
  }
  if (![...params.keys()].length) return [`the link's settings could not be read (“${hash.slice(0, 40)}”)`];
  const byName = new Map(table.map((entry) => [entry.name, entry]));
  const rank = ([name]) => (name === 'experiment' ? 0 : byName.get(name) && byName.get(name).late ? 2 : 1);
  const entries = [...params.entries()].sort((a, b) => rank(a) - rank(b));
  for (const [name, text] of entries) {
    const entry = byName.get(name);
    if (!entry) {
      problems.push(`unknown setting “${name}”`);
      continue;
    }
    try {
      entry.write(entry.parse(text));
    } catch (err) {
      if (!(err instanceof LinkProblem)) throw err;
      problems.push(err.message);
    }
  }
  return problems;
}

// The form's own entries only (what links held before the page's entries existed).
export const encodeForm = (form) => encodeState(stateTable(form));
export const applyHash = (form, hash) => applyState(stateTable(form), hash);
