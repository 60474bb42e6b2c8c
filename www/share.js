// Shareable configurations: every named field of the form (experiment, data,
// model, optimisation, schedule, augmentation, regularisation) that differs
// from the page's default goes into the URL's #hash, so a link reproduces the
// setup. Reading a link checks every entry; anything unknown or invalid is
// reported by name and left at its default — a garbled link never breaks the page.

const PREFIX = '#';

function fields(form) {
  return [...form.elements].filter((el) => el.name && (el.tagName === 'SELECT' || el.tagName === 'INPUT') && el.type !== 'file');
}

const defaultOf = (el) => (el.tagName === 'SELECT' ? [...el.options].find((o) => o.defaultSelected)?.value ?? el.options[0]?.value : el.defaultValue);

// The form's non-default settings as a URL hash ('' when everything is default).
export function encodeForm(form) {
  const params = new URLSearchParams();
  for (const el of fields(form)) {
    if (el.closest('[hidden]')) continue; // unused by this experiment
    if (el.value !== defaultOf(el)) params.set(el.name, el.value);
  }
  const text = params.toString();
  return text ? PREFIX + text : '';
}

// Applies a hash made by encodeForm; returns the problems found (empty when all is well).
export function applyHash(form, hash) {
  const problems = [];
  if (!hash || hash === PREFIX) return problems;
  let params;
  try {
    params = new URLSearchParams(decodeURIComponent(hash.slice(1)).includes('=') ? hash.slice(1) : '');
  } catch {
    return [`the link's settings could not be read (${hash.slice(0, 40)}…)`];
  }
  if (![...params.keys()].length) return [`the link's settings could not be read (“${hash.slice(0, 40)}”)`];
  const byName = new Map(fields(form).map((el) => [el.name, el]));
  // The experiment goes first: picking one fills in its defaults, which the link may then override.
  const entries = [...params.entries()].sort(([a], [b]) => (a === 'experiment' ? -1 : b === 'experiment' ? 1 : 0));
  for (const [name, value] of entries) {
    const el = byName.get(name);
    if (!el) {
      problems.push(`unknown setting “${name}”`);
      continue;
    }
    if (el.tagName === 'SELECT') {
      if (![...el.options].some((o) => o.value === value)) {
        problems.push(`“${value}” is not a choice for ${name}`);
        continue;
      }
    } else if (el.type === 'number' || el.type === 'range') {
      if (value.trim() === '' || !Number.isFinite(Number(value))) {
        problems.push(`${name} must be a number, not “${value}”`);
        continue;
      }
    }
    el.value = value;
    el.dispatchEvent(new Event('change', { bubbles: true }));
    if (el.type === 'range') el.dispatchEvent(new Event('input', { bubbles: true }));
  }
  return problems;
}
