// The charts as one PNG picture: a title, then each chart (uPlot draws on a
// canvas, so the picture is that canvas at the screen's resolution) under
// its caption and above a legend of its series. uPlot has no SVG output, so
// PNG is the one picture format.

const PAD = 16;
const FONT = '14px system-ui, sans-serif';
const LINE = 20;

// The legend entries of a uPlot chart: [{label, stroke, dash}] (x excluded).
function legend(chart) {
  return chart.series.slice(1).map((s, i) => ({ label: s.label, stroke: s.stroke(chart, i + 1), dash: s.dash || [] }));
}

// `charts`: [{caption, chart: a uPlot}] → Promise<Blob> of an image/png.
export function chartsPng(title, charts) {
  const scale = window.devicePixelRatio || 1;
  const width = Math.max(...charts.map(({ chart }) => chart.ctx.canvas.width / scale)) + 2 * PAD;
  const legendRows = charts.map(({ chart }) => Math.ceil(legend(chart).length / 3));
  const height = PAD + LINE + charts.reduce((h, { chart }, i) => h + LINE + chart.ctx.canvas.height / scale + legendRows[i] * LINE + PAD, PAD);
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  const ctx = canvas.getContext('2d');
  ctx.scale(scale, scale);
  // The page's colours: the charts drew their axes in them (dark scheme too).
  const css = getComputedStyle(document.documentElement);
  const [paper, ink, muted] = ['--panel', '--ink', '--muted'].map((name) => css.getPropertyValue(name).trim());
  ctx.fillStyle = paper || '#ffffff';
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = ink || '#111827';
  ctx.font = `600 ${FONT}`;
  ctx.textBaseline = 'middle';
  ctx.fillText(title, PAD, PAD + LINE / 2);
  let y = PAD + LINE + PAD;
  charts.forEach(({ caption, chart }, i) => {
    ctx.font = FONT;
    ctx.fillStyle = muted || '#374151';
    ctx.fillText(caption, PAD, y + LINE / 2);
    y += LINE;
    const plot = chart.ctx.canvas;
    ctx.drawImage(plot, PAD, y, plot.width / scale, plot.height / scale);
    y += plot.height / scale;
    const column = (width - 2 * PAD) / 3;
    legend(chart).forEach((entry, j) => {
      const x = PAD + (j % 3) * column;
      const cy = y + Math.floor(j / 3) * LINE + LINE / 2;
      ctx.strokeStyle = entry.stroke || '#000';
      ctx.lineWidth = 2;
      ctx.setLineDash(entry.dash);
      ctx.beginPath();
      ctx.moveTo(x, cy);
      ctx.lineTo(x + 22, cy);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = muted || '#374151';
      ctx.fillText(entry.label, x + 28, cy, column - 32);
    });
    y += legendRows[i] * LINE + PAD;
  });
  return new Promise((resolve, reject) => canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('the browser could not encode the PNG'))), 'image/png'));
}
