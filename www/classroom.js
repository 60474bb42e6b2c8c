// Classroom options, from the same URL hash as the settings (share.js):
//   hide=optimizer,lr,augmentation,…  hides controls (by their field names)
//       and panels (by their data-panel names); hidden, not disabled, and
//       what they feed (the status, the charts, the run summary) stays;
//   lock=1      every setting read-only; Train / Pause / Step / Reset still work;
//   text=0      no explanatory text and no header, for compact embeds;
//   autostart=1 trains as soon as the page is ready and visible.
// Hiding uses a class, not the `hidden` attribute, which means "unused by
// this experiment" to the form and the links: a hidden control still counts.

import { LinkProblem } from './share.js';

const flag = (name) => (text) => {
  if (text !== '0' && text !== '1') throw new LinkProblem(`${name} must be 0 or 1, not “${text}”`);
  return text;
};

export class Classroom {
  constructor(form) {
    this.form = form;
    this.values = { hide: '', lock: '0', text: '1', autostart: '0' };
  }

  // Every name `hide=` knows: the form's fields and the page's panels.
  hideable() {
    return this.choices().map((c) => c.name);
  }

  // The same, for people: [{name, label, kind: 'panel' | 'setting'}]. The
  // augmentation sliders go with their panel; a setting the current
  // experiment does not use is left out of the list (hide= still takes it).
  choices({ forPeople = false } = {}) {
    const text = (el) => (el ? el.firstChild?.textContent?.trim() || el.textContent.trim() : '');
    const panels = [...document.querySelectorAll('[data-panel]')].map((el) => ({
      name: el.dataset.panel,
      label: text(el.querySelector(':scope > legend, :scope > h2, :scope > summary')) || text(el) || el.dataset.panel,
      kind: 'panel',
    }));
    const fields = [...this.form.elements]
      .filter((el) => el.name && !(forPeople && (el.name.startsWith('aug_') || el.closest('[hidden]'))))
      .map((el) => ({ name: el.name, label: text(el.closest('label')) || el.name, kind: 'setting' }));
    const seen = new Set();
    return [...panels, ...fields].filter((c) => !seen.has(c.name) && seen.add(c.name));
  }

  // The table entries for share.js (written in the URL, applied from it).
  entries() {
    const entry = (name, type, where, parse) => ({
      name,
      type,
      default: { hide: '', lock: '0', text: '1', autostart: '0' }[name],
      where,
      read: () => this.values[name],
      parse,
      write: (value) => {
        this.values[name] = value;
        this.apply();
      },
    });
    return [
      entry('hide', 'list of control and panel names', 'classroom: what the page hides', (text) => {
        const names = text.split(',').map((n) => n.trim()).filter(Boolean);
        const known = this.hideable();
        const unknown = names.filter((n) => !known.includes(n));
        if (unknown.length) throw new LinkProblem(`hide names ${unknown.map((n) => `“${n}”`).join(', ')}, which the page does not have (it has ${known.join(', ')})`);
        return names.join(',');
      }),
      entry('lock', '0 | 1', 'classroom: settings read-only', flag('lock')),
      entry('text', '0 | 1', 'classroom: explanatory text shown', flag('text')),
      entry('autostart', '0 | 1', 'classroom: train when ready and visible', flag('autostart')),
    ];
  }

  get locked() {
    return this.values.lock === '1';
  }

  get autostart() {
    return this.values.autostart === '1';
  }

  // Shows what the options say; `apply` again after the page re-renders a panel.
  apply() {
    const hidden = new Set(this.values.hide.split(',').filter(Boolean));
    for (const el of document.querySelectorAll('.classroom-hidden')) el.classList.remove('classroom-hidden');
    for (const name of hidden) {
      const field = this.form.elements[name];
      const target = field && field.closest ? field.closest('label') || field : document.querySelector(`[data-panel="${name}"]`);
      if (target) target.classList.add('classroom-hidden');
    }
    for (const el of document.querySelectorAll('[data-panel]')) if (hidden.has(el.dataset.panel)) el.classList.add('classroom-hidden');
    document.body.classList.toggle('no-text', this.values.text === '0');
    document.body.classList.toggle('locked', this.locked);
    // Panels that change settings are inert while locked: visible, not usable.
    for (const panel of ['your-images', 'saved', 'layers']) document.querySelector(`[data-panel="${panel}"]`)?.toggleAttribute('inert', this.locked);
  }
}
