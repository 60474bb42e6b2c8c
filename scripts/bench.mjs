// `make bench`: measurements printed as JSON lines, one per figure.
//
// gemm / train / tfjs-cpu: www/bench/bench.html run in headless Chromium (the same
// page people can open), every figure a median over several timed windows
// with its min and max.
// page-train: the page itself trains LeNet-5 on MNIST for 5 epochs in headless
// Chromium exactly as a user would (charts drawing), and we record the
// validation accuracy, wall time, the page's own images/s readout (median of
// its samples) and every main-thread task longer than 50 ms (Long Tasks API).
// native-train: the same configuration through the native command line.
// memory: JS heap and wasm memory over a long session (scripts/bench-memory.mjs).
// train-parallel / machine-scaling / efficiency: in bench.html (see bench.js).
// experiment: every one-click experiment in the page, on 1 worker and on all cores.

import { execFileSync } from 'node:child_process';
import { openLab, byTestId, trainUntilDone } from '../tests/e2e/browser.mjs';
import { benchMemory } from './bench-memory.mjs';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length ? (s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2) : null;
};

async function benchPage() {
  // Cross-origin isolated, as `make serve` serves it: the data-parallel figures use shared memory.
  const lab = await openLab({ path: 'bench/bench.html?auto', readyState: null, isolate: true });
  const { page } = lab;
  await page.waitForFunction(() => /^(done|failed)/.test(document.getElementById('state').textContent), null, { timeout: 20 * 60_000 });
  const state = await page.locator('#state').textContent();
  const lines = await page.evaluate(() => window.benchResults);
  await lab.close();
  if (state !== 'done') throw new Error(`bench/bench.html: ${state}`);
  return lines;
}

async function pageTrain(model, epochs, extra = {}) {
  const lab = await openLab();
  const { page } = lab;
  // As a person would: the page has finished loading (its charts' warm-up
  // included) before anyone presses Train; load-time tasks are counted apart.
  await page.waitForFunction(() => document.querySelector('[data-testid="acc-chart"]').dataset.warm === 'done');
  await page.evaluate(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
    window.__speeds = [];
    window.__vals = [];
    const speed = document.querySelector('[data-testid="images-per-s"]');
    const val = document.querySelector('[data-testid="val-acc"]');
    new MutationObserver(() => window.__speeds.push(Number(speed.textContent.replace(/,/g, '')))).observe(speed, { childList: true, characterData: true, subtree: true });
    new MutationObserver(() => window.__vals.push(Number(val.textContent))).observe(val, { childList: true, characterData: true, subtree: true });
  });
  await byTestId(page, 'model').selectOption(model);
  await byTestId(page, 'epochs').fill(String(epochs));
  if (extra.optimizer) await byTestId(page, 'optimizer').selectOption(extra.optimizer);
  if (extra.lr) await byTestId(page, 'lr').fill(String(extra.lr));
  if (extra.batch) await byTestId(page, 'batch-size').fill(String(extra.batch));
  const started = Date.now();
  const clickedAt = await page.evaluate(() => performance.now());
  await byTestId(page, 'train').click();
  await page.waitForFunction(() => document.body.dataset.state === 'done', null, { timeout: 30 * 60_000 });
  const seconds = (Date.now() - started) / 1000;
  const result = await page.evaluate((since) => ({
    // Only tasks while training count; page load (wasm compile, first layout) is separate.
    longTasks: window.__longTasks.filter((t) => t.start >= since).map((t) => t.duration),
    longTasksAt: window.__longTasks.filter((t) => t.start >= since).map((t) => Math.round(t.start - since)),
    loadLongTasks: window.__longTasks.filter((t) => t.start < since).map((t) => t.duration),
    speeds: window.__speeds.filter((v) => v > 0),
    vals: window.__vals.filter((v) => Number.isFinite(v)),
    test: Number(document.querySelector('[data-testid="test-acc"]').textContent),
    build: document.querySelector('[data-testid="build"]').textContent,
  }), clickedAt);
  await lab.close();
  const speeds = result.speeds;
  return {
    bench: 'page-train',
    model,
    epochs,
    batch: extra.batch || 32,
    optimizer: extra.optimizer || 'adam',
    build: result.build,
    val_acc_final: result.vals.at(-1),
    val_acc_best: Math.max(...result.vals),
    test_acc: result.test,
    seconds,
    images_per_s_median: median(speeds),
    images_per_s_min: Math.min(...speeds),
    images_per_s_max: Math.max(...speeds),
    long_tasks_over_50ms: result.longTasks.length,
    longest_task_ms: result.longTasks.length ? Math.max(...result.longTasks) : 0,
    long_tasks_at_ms: result.longTasksAt, // after pressing Train
    long_tasks_before_training: result.loadLongTasks.length,
    console_errors: lab.consoleErrors.length,
  };
}

// Every one-click experiment in the page, from pressing Train until its
// answer is on the page (state done), twice on 1 worker and twice on every
// core, in the order A B B A (B A A B for the next experiment): one pair of
// runs would give the machine's drift over a few seconds as much weight as
// the workers. Served isolated, as `make serve` does.
async function pageExperiments() {
  const lab = await openLab({ isolate: true });
  const { page } = lab;
  const names = await page.evaluate(() => [...document.querySelector('[data-testid="experiment"]').options].map((o) => o.value).filter((v) => v !== 'free'));
  const cores = await page.evaluate(() => Math.min(navigator.hardwareConcurrency || 1, 8));
  const lines = [];
  for (const [i, experiment] of names.entries()) {
    const seconds = { 1: [], [cores]: [] };
    const order = i % 2 ? [cores, 1, 1, cores] : [1, cores, cores, 1];
    for (const workers of order) {
      await byTestId(page, 'experiment').selectOption(experiment);
      await byTestId(page, 'workers').selectOption(String(workers));
      const started = Date.now();
      const state = await trainUntilDone(page, { timeout: 20 * 60_000 });
      seconds[workers].push((Date.now() - started) / 1000);
      lines.push({ bench: 'experiment', experiment, workers, seconds: seconds[workers].at(-1), state });
    }
    const one = median(seconds[1]);
    const all = median(seconds[cores]);
    lines.push({
      bench: 'ratio',
      what: `experiment ${experiment}: 1 worker / ${cores} workers (speed-up, medians)`,
      ratio: one / all,
      seconds_1: one,
      [`seconds_${cores}`]: all,
      ratio_min_max: [Math.min(...seconds[1]) / Math.max(...seconds[cores]), Math.max(...seconds[1]) / Math.min(...seconds[cores])],
    });
  }
  await lab.close();
  return lines;
}

function nativeTrain(model, epochs, batch, optimizer, lr) {
  const args = ['run', '--quiet', '--release', '--bin', 'finetune-lab', '--', 'train', '--dataset', 'www/data/mnist.ftld.gz', '--model', model, '--epochs', String(epochs), '--seed', '1', '--batch-size', String(batch), '--optimizer', optimizer, '--lr', String(lr)];
  const lines = execFileSync('cargo', args, { encoding: 'utf8' }).trim().split('\n').map((l) => JSON.parse(l));
  const final = lines.at(-1);
  const evals = lines.slice(0, -1);
  return {
    bench: 'native-train',
    model,
    epochs,
    batch,
    optimizer,
    build: 'native',
    val_acc_final: evals.at(-1).val_acc,
    val_acc_best: Math.max(...evals.map((e) => e.val_acc)),
    test_acc: final.test_acc,
    seconds: final.seconds,
    images_per_s: final.train_images_per_s,
  };
}

const print = (line) => console.log(JSON.stringify(line));
const browser = await benchPage();
browser.forEach(print);
const lenet = browser.filter((l) => l.bench === 'train' && l.model === 'lenet5');
const best = lenet.filter((l) => l.build).sort((a, b) => b.images_per_s - a.images_per_s)[0];
const peer = lenet.find((l) => l.peer === 'tfjs-cpu');
print({ bench: 'ratio', what: 'lenet5 train, best build / tfjs-cpu', build: best.build, ratio: best.images_per_s / peer.images_per_s });

// The page itself: the accuracy run (Adam, batch 32), then the
// benchmark's configuration (SGD + momentum, batch 64) to compare its readout.
print(await pageTrain('lenet5', 5));
const pageSpeed = await pageTrain('lenet5', 3, { optimizer: 'momentum', lr: 0.01, batch: 64 });
print(pageSpeed);
print({ bench: 'ratio', what: 'page images/s readout / worker benchmark, lenet5 batch 64', build: pageSpeed.build, ratio: pageSpeed.images_per_s_median / best.images_per_s });
print(await pageTrain('mlp', 5));
print(nativeTrain('lenet5', 5, 32, 'adam', 0.001));
print(nativeTrain('lenet5', 1, 64, 'momentum', 0.01));
print(nativeTrain('mlp', 1, 64, 'momentum', 0.01));
print(await benchMemory());
(await pageExperiments()).forEach(print);
