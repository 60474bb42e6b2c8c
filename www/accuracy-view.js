// How a model does on a split, drawn: per-class accuracy bars and the
// confusion matrix (rows: true class, columns: predicted; shaded by the
// share of the row, right answers blue and mistakes orange). Used by
// Evaluate (a saved model) and by "Inside the network" (a live run), from
// the core's report {per_class: [{class, images, acc}], confusion}.

export const pct = (x) => (Number.isNaN(x) || x == null ? '–' : `${(100 * x).toFixed(1)} %`);

// [bars, table]; `onCell(true, predicted)` makes the matrix's cells buttons.
export function accuracyView(report, { onCell = null } = {}) {
  return [classBars(report), confusionTable(report, onCell)];
}

// One bar: a label, a bar filled to `share` (0–1), and the value in words.
export function barRow(label, share, value) {
  const li = document.createElement('li');
  const bar = document.createElement('span');
  bar.className = 'eval-bar';
  bar.setAttribute('aria-hidden', 'true');
  const fill = document.createElement('span');
  fill.style.width = `${Number.isNaN(share) ? 0 : 100 * share}%`;
  bar.append(fill);
  li.append(Object.assign(document.createElement('span'), { textContent: label }), bar, Object.assign(document.createElement('span'), { textContent: value }));
  return li;
}

// A model's class probabilities for one image, one bar each.
export function probabilityBars(classes, probabilities) {
  const list = document.createElement('ul');
  list.className = 'eval-bars';
  list.append(...probabilities.map((p, c) => barRow(classes[c], p, pct(p))));
  return list;
}

function classBars(report) {
  const bars = document.createElement('ul');
  bars.className = 'eval-bars';
  bars.setAttribute('data-testid', 'eval-per-class');
  for (const c of report.per_class) {
    const li = barRow(c.class, c.acc, `${pct(c.acc)} of ${c.images}`);
    li.dataset.acc = String(c.acc);
    bars.append(li);
  }
  return bars;
}

function confusionTable(report, onCell) {
  const names = report.per_class.map((c) => c.class);
  const table = document.createElement('table');
  table.className = 'confusion';
  table.setAttribute('data-testid', 'eval-confusion');
  const caption = Object.assign(document.createElement('caption'), {
    textContent: `Confusion matrix: rows are the true class, columns what the model predicted${onCell ? '; a cell shows its images' : ''}`,
  });
  const head = document.createElement('tr');
  head.append(Object.assign(document.createElement('th'), { textContent: 'true ↓ / predicted →' }), ...names.map((n) => Object.assign(document.createElement('th'), { textContent: n, scope: 'col' })));
  table.append(caption, head);
  report.confusion.forEach((row, t) => {
    const tr = document.createElement('tr');
    tr.append(Object.assign(document.createElement('th'), { textContent: names[t], scope: 'row' }));
    const total = row.reduce((a, b) => a + b, 0) || 1;
    row.forEach((count, p) => {
      const td = document.createElement('td');
      const share = count / total;
      td.style.background = count ? (t === p ? `rgba(36, 87, 197, ${0.12 + 0.6 * share})` : `rgba(194, 65, 12, ${0.12 + 0.6 * share})`) : '';
      if (share > 0.55) td.style.color = '#fff';
      if (onCell && count && t !== p) {
        const button = Object.assign(document.createElement('button'), { type: 'button', className: 'cell', textContent: String(count), title: `${count} ${names[t]} taken for ${names[p]}` });
        button.addEventListener('click', () => onCell(t, p));
        td.append(button);
      } else td.textContent = String(count);
      tr.append(td);
    });
    table.append(tr);
  });
  return table;
}
