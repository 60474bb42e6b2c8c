// The core's catalog (src/catalog/) on the page: every optimiser,
// initialiser, schedule, shift, augmentation transform and preset, model
// preset and numeric limit, exactly as the wasm core defines them. The worker
// sends it with `ready`; nothing on the page re-types those facts, it looks
// them up here.

let current = null;

export function setCatalog(catalog) {
  current = catalog;
}

export const hasCatalog = () => current !== null;

export function catalog() {
  if (!current) throw new Error('the training core’s catalog has not arrived yet');
  return current;
}

const byName = (list, name, what) => {
  const found = list.find((c) => c.name === name);
  if (!found) throw new Error(`unknown ${what} “${name}” (known: ${list.map((c) => c.name).join(', ')})`);
  return found;
};

export const optimizerSpec = (name) => byName(catalog().optimizers, name, 'optimiser').spec;
export const optimizerLabel = (name) => byName(catalog().optimizers, name, 'optimiser').label;
// The learning rate an optimiser is usually started at (the core's catalog.usual_rates).
export const usualRate = (name) => byName(catalog().usual_rates.map((r) => ({ name: r.optimizer, lr: r.lr })), name, 'optimiser').lr;
export const scheduleSpec = (name) => byName(catalog().schedules, name, 'schedule').spec;
export const shiftChoice = (name) => byName(catalog().shifts, name, 'shift');
export const augmentPreset = (name) => byName(catalog().augment_presets, name, 'augmentation preset').spec;

// An initialiser's spec; the plain random ones carry `scale` in their own field.
export function initSpec(name, scale) {
  const choice = byName(catalog().inits, name, 'initialiser');
  return choice.scale_field ? { ...choice.spec, [choice.scale_field]: scale } : { ...choice.spec };
}

// The limit of a configuration field ('lr', 'shift.strength' for `shiftKind`, …).
export function limit(field, shiftKind) {
  if (field === 'shift.strength') return shiftChoice(shiftKind).strength;
  return catalog().limits.find((l) => l.field === field) || null;
}

// Whether `value` is inside `range` (a catalog limit), as the core's Limit::allows decides.
export function allows(range, value) {
  const above = range.min_exclusive ? value > range.min : value >= range.min;
  const below = range.max === null || (range.max_exclusive ? value < range.max : value <= range.max);
  return Number.isFinite(value) && above && below && (!range.whole || Number.isInteger(value));
}

// The form's <select>s whose options are the catalog's named choices.
export function choicesFor(select) {
  const c = catalog();
  return {
    model: c.models,
    init: c.inits,
    optimizer: c.optimizers,
    schedule: c.schedules,
    shiftKind: c.shifts,
  }[select];
}
