// The metrics files (www/metrics-export.js): CSV that spreadsheets and
// pandas read back field for field, and JSON with the runs' configuration.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metricsCsv, metricsJson, METRICS_FORMAT } from '../../www/metrics-export.js';

const row = (kind, epoch, loss, acc) => ({ at: { epoch, examples_seen: epoch * 100, seconds: epoch / 2 }, run: 0, kind, loss, acc });

// A small RFC 4180 reader, independent of the writer.
function readCsv(text) {
  const rows = [];
  let field = '';
  let fields = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') field += text[++i];
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') fields.push(field), (field = '');
    else if (c === '\r' && text[i + 1] === '\n') {
      fields.push(field);
      rows.push(fields);
      fields = [];
      field = '';
      i++;
    } else field += c;
  }
  return rows;
}

test('CSV: a header, one row per point of every run, a run column, empty cells for missing values', () => {
  const csv = metricsCsv([
    { name: 'from scratch', rows: [row('train', 0.25, 1.5, 0.5), row('val', 0.25, 1.25, 0.625)] },
    { name: 'fine-tuned', rows: [row('source', 0.25, null, 0.875)] },
  ]);
  assert.deepEqual(readCsv(csv), [
    ['run', 'kind', 'epoch', 'examples_seen', 'seconds', 'loss', 'acc'],
    ['from scratch', 'train', '0.25', '25', '0.125', '1.5', '0.5'],
    ['from scratch', 'val', '0.25', '25', '0.125', '1.25', '0.625'],
    ['fine-tuned', 'source', '0.25', '25', '0.125', '', '0.875'],
  ]);
});

test('CSV: run names with commas, quotes and line breaks survive', () => {
  for (const name of ['a, b', 'say "hi"', 'two\nlines', '=SUM(A1)']) {
    const [, first] = readCsv(metricsCsv([{ name, rows: [row('val', 1, 0.5, 0.75)] }]));
    assert.equal(first[0], name);
    assert.equal(first.length, 7);
  }
});

test('JSON: format, version, and each run with its configuration, final numbers and points', () => {
  const spec = { name: 'run', datasetUrl: 'data/mnist.ftld.gz', config: { model: 'lenet5', epochs: 1 } };
  const doc = JSON.parse(metricsJson([{ name: 'run', spec, final: { testAcc: 0.9 }, rows: [row('val', 1, 0.5, 0.75)] }], { exportedAt: new Date('2026-12-02T00:00:00Z') }));
  assert.equal(doc.format, METRICS_FORMAT);
  assert.equal(doc.version, 1);
  assert.equal(doc.exported_at, '2026-12-02T00:00:00.000Z');
  assert.deepEqual(doc.runs[0], {
    name: 'run',
    dataset: 'data/mnist.ftld.gz',
    classes: null,
    base: null,
    config: { model: 'lenet5', epochs: 1 },
    final: { testAcc: 0.9 },
    points: [{ kind: 'val', epoch: 1, examples_seen: 100, seconds: 0.5, loss: 0.5, acc: 0.75 }],
  });
});
