// A run's numbers for the tools people analyse them with: CSV (one row per
// charted point, several runs in one file with a run column) and JSON (the
// points with the run's configuration and final numbers). The points are the
// charts' own rows, so the files hold exactly what the page drew.

export const METRICS_FORMAT = 'finetune-lab-metrics';
export const METRICS_VERSION = 1;

const COLUMNS = ['run', 'kind', 'epoch', 'examples_seen', 'seconds', 'loss', 'acc'];

// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled.
function csvField(value) {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

// A chart row ({at: {epoch, examples_seen, seconds}, kind, loss, acc}) as a plain point.
export function point(row) {
  return { kind: row.kind, epoch: row.at.epoch, examples_seen: row.at.examples_seen, seconds: row.at.seconds, loss: row.loss, acc: row.acc };
}

// `runs`: [{name, rows}] → one CSV, header first, rows in each run's order.
export function metricsCsv(runs) {
  const lines = [COLUMNS.join(',')];
  for (const run of runs) {
    for (const row of run.rows) {
      const p = point(row);
      lines.push([run.name, p.kind, p.epoch, p.examples_seen, p.seconds, p.loss, p.acc].map(csvField).join(','));
    }
  }
  return `${lines.join('\r\n')}\r\n`;
}

// `runs`: [{name, spec, final, rows}] → a JSON document a notebook can read
// back: the run specs (dataset, classes, TrainConfig, base) say how each run
// was made.
export function metricsJson(runs, { exportedAt = new Date() } = {}) {
  return JSON.stringify(
    {
      format: METRICS_FORMAT,
      version: METRICS_VERSION,
      exported_at: exportedAt.toISOString(),
      runs: runs.map((run) => ({
        name: run.name,
        dataset: run.spec ? run.spec.datasetUrl : null,
        classes: run.spec && run.spec.classes ? run.spec.classes : null,
        base: run.spec && run.spec.base ? run.spec.base : null,
        config: run.spec ? run.spec.config : null,
        final: run.final || null,
        points: run.rows.map(point),
      })),
    },
    null,
    1,
  );
}
