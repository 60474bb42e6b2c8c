// The page's address as its settings: the URL-state table (share.js) made of
// the form's fields, the per-layer choices, the charts' x-axis and the
// classroom options; applied when the core's catalog has filled the form,
// again whenever the hash changes (a new link, no reload), and one entry at
// a time for an embedding page's `set`. "Copy link" writes it.

import { LinkProblem, stateTable, encodeState, applyState } from './share.js';

export class Links {
  // `page`: {form, xAxis (the select), charts, layersPanel, classroom, tutorial, status}.
  constructor(page) {
    this.page = page;
    page.xAxis.addEventListener('change', (event) => page.charts.setXAxis(event.target.value));
  }

  table() {
    const { form, xAxis, charts, layersPanel, classroom } = this.page;
    const x = {
      name: 'x',
      type: 'choice',
      default: 'epoch',
      where: 'Charts’ x-axis',
      read: () => xAxis.value,
      parse: (text) => {
        if (![...xAxis.options].some((o) => o.value === text)) throw new LinkProblem(`“${text}” is not a choice for x (${[...xAxis.options].map((o) => o.value).join(', ')})`);
        return text;
      },
      write: (value) => {
        xAxis.value = value;
        charts.setXAxis(value);
      },
    };
    return stateTable(form, [x, ...layersPanel.urlEntries(), ...classroom.entries(), this.page.tutorial.entry()]);
  }

  // A tutorial step's settings ({name: value}, URL names): every other
  // setting goes back to its default; the classroom options stay as they are.
  applySettings(settings) {
    const keep = ['hide', 'lock', 'text', 'autostart', 'tutorial'];
    const table = this.table().filter((entry) => !keep.includes(entry.name));
    const problems = applyState(table, `#${new URLSearchParams(settings)}`, { reset: true });
    if (problems.length) throw new Error(`a tutorial step's settings do not apply: ${problems.join('; ')}`);
  }

  // The address's settings; a new link replaces every setting (`reset`).
  applyLocation({ reset = false } = {}) {
    const problems = applyState(this.table(), location.hash, { reset });
    this.page.classroom.apply();
    if (problems.length) this.page.status.message(`This link’s settings were partly unreadable; left at their defaults: ${problems.join('; ')}.`, { error: true });
    return problems;
  }

  // One entry (an embedding page's `set`): the problems, or [] once applied.
  applyEntry(name, value) {
    const entry = this.table().find((e) => e.name === name);
    if (!entry) return [`unknown setting “${name}”`];
    try {
      entry.write(entry.parse(value));
    } catch (err) {
      if (!(err instanceof LinkProblem)) throw err;
      return [err.message];
    }
    return [];
  }

  // "Copy link": every non-default setting into the address, and onto the clipboard.
  async share() {
    const { status } = this.page;
    const hash = encodeState(this.table());
    history.replaceState(null, '', hash || location.pathname + location.search);
    try {
      await navigator.clipboard.writeText(location.href);
      status.message('Link copied: it opens the page with these settings.');
    } catch {
      status.message('The page’s address now holds these settings: copy it to share them.');
    }
  }
}
