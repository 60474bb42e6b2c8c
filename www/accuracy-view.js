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

function classBars(report) {
  const bars = document.createElement('ul');
  bars.className = 'eval-bars';
  bars.setAttribute('data-testid', 'eval-per-class');
  for (const c of report.per_class) {
    const li = document.createElement('li');
    li.dataset.acc = String(c.acc);
    const label = Object.assign(document.createElement('span'), { textContent: c.class });
    const bar = document.createElement('span');
    bar.className = 'eval-bar';
    bar.setAttribute('aria-hidden', 'true');
    const fill = document.createElement('span');
    fill.style.width = `${Number.isNaN(c.acc) ? 0 : 100 * c.acc}%`;
    bar.append(fill);
    const value = Object.assign(document.createElement('span'), { textContent: `${pct(c.acc)} of ${c.images}` });
    li.append(label, bar, value);
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
