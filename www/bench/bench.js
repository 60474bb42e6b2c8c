// Drives the benchmark: one worker per wasm build, then the TensorFlow.js
// peer, one figure at a time so they never compete for the CPU. Results go to
// the table and to window.benchResults (JSON lines for `make bench`).

import { relaxedSimdSupported } from '../wasm-build.js';

const LENET_SHAPES = [
  // The products LeNet-5 computes at batch 64 in the SIMD builds. The first
  // convolution is direct (src/kernels/direct.rs), no GEMM; the second reads
  // its patches straight from the images (gathered, src/nn/conv2d.rs), and
  // its input gradient goes through im2col's adjoint 4 images at a time.
  { label: 'conv2 forward (gathered)', form: 'gathered', m: 64 * 100, n: 16, k: 150 },
  { label: 'conv2 weight grad (gathered)', form: 'gathered', m: 150, n: 16, k: 64 * 100 },
  { label: 'conv2 input grad', form: 'tt', m: 150, n: 4 * 100, k: 16 },
  { label: 'dense 400→120 forward', form: 'nt', m: 64, n: 120, k: 400 },
  { label: 'dense 400→120 weight grad', form: 'tn', m: 120, n: 400, k: 64 },
];
const SQUARES = [64, 128, 256].map((s) => ({ label: `square ${s}`, form: 'nn', m: s, n: s, k: s }));

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

window.benchResults = [];
const rows = document.getElementById('rows');
const state = document.getElementById('state');

function call(worker, message) {
  return new Promise((resolve, reject) => {
    worker.onmessage = ({ data }) => (data.ok ? resolve(data) : reject(new Error(data.error)));
    worker.onerror = (e) => reject(new Error(e.message));
    worker.postMessage(message);
  });
}

// One row of the page's table: [median, min, max] in `unit`.
function tableRow(label, build, values, unit) {
  const tr = document.createElement('tr');
  const fmt = (v) => (unit === 'GFLOP/s' || unit === 'ms' || unit === '%' ? v.toFixed(2) : Math.round(v).toLocaleString('en-US'));
  tr.innerHTML = `<td>${label}</td><td>${build}</td>` + values.map((v) => `<td class="num">${fmt(v)} ${unit}</td>`).join('');
  rows.append(tr);
}

// A JSON line for `make bench`, shown as a table row too.
function record(line, label, unit) {
  window.benchResults.push(line);
  const r = line;
  const values = unit === 'GFLOP/s' ? [r.gflops, r.gflops_min, r.gflops_max] : [r.images_per_s, r.images_per_s_min, r.images_per_s_max];
  tableRow(label, r.build || r.peer, values, unit);
}

async function run() {
  const builds = ['simd128'].concat(relaxedSimdSupported() ? ['relaxed'] : []);
  for (const build of builds) {
    const worker = new Worker(new URL(`./bench-worker.js?build=${build}`, import.meta.url), { type: 'module' });
    const probe = await call(worker, { task: 'gemm', kernel: 'scalar', form: 'nn', m: 1, n: 1, k: 1, windows: 1, windowMs: 1 });
    // The scalar reference runs in the simd128 worker only (it is the same code in both builds).
    const kernels = probe.kernels.filter((k) => k === build || (build === 'simd128' && k === 'scalar'));
    for (const kernel of kernels) {
      for (const shape of [...SQUARES, ...LENET_SHAPES]) {
        state.textContent = `GEMM ${shape.label}, ${kernel}…`;
        const { result } = await call(worker, { task: 'gemm', kernel, ...shape });
        record({ bench: 'gemm', shape: shape.label, form: shape.form, m: shape.m, n: shape.n, k: shape.k, build: kernel, gflops: result.median, gflops_min: result.min, gflops_max: result.max }, `GEMM ${shape.label} (${shape.m}×${shape.n}×${shape.k}, ${shape.form})`, 'GFLOP/s');
      }
    }
    if (build === 'relaxed') {
      // Fused against unfused multiply-add in one worker, windows alternating.
      for (const shape of [...SQUARES, LENET_SHAPES[0]]) {
        state.textContent = `GEMM ${shape.label}, simd128 and relaxed side by side…`;
        const { result } = await call(worker, { task: 'gemmSideBySide', kernels: ['simd128', 'relaxed'], ...shape });
        const [plain, fused] = [result.simd128, result.relaxed];
        window.benchResults.push({ bench: 'gemm-side-by-side', shape: shape.label, form: shape.form, m: shape.m, n: shape.n, k: shape.k, simd128_gflops: plain.median, relaxed_gflops: fused.median, ratio: fused.median / plain.median, windows: plain.samples });
        for (const [name, r] of [['simd128', plain], ['relaxed', fused]]) {
          tableRow(`GEMM ${shape.label}, side by side in one worker`, name, [r.median, r.min, r.max], 'GFLOP/s');
        }
      }
    }
    for (const kernel of kernels.filter((k) => k !== 'scalar')) {
      state.textContent = `profiling lenet5 layers, ${kernel}…`;
      const profile = await call(worker, { task: 'profile', kernel, model: 'lenet5', batch: 64, steps: 20 });
      const layerMs = profile.result.map((l) => ({ layer: l.layer, name: l.name, forward_ms: +l.forward_ms.toFixed(3), backward_ms: +l.backward_ms.toFixed(3) }));
      window.benchResults.push({ bench: 'layer-profile', model: 'lenet5', batch: 64, build: kernel, layers: layerMs });
      for (const model of ['lenet5', 'mlp']) {
        state.textContent = `training ${model}, ${kernel}…`;
        const { result } = await call(worker, { task: 'train', kernel, model, batch: 64 });
        record({ bench: 'train', model, batch: 64, build: kernel, images_per_s: result.median, images_per_s_min: result.min, images_per_s_max: result.max, windows: result.samples }, `train ${model}, batch 64`, 'images/s');
        state.textContent = `training ${model} with and without the overflow guard, ${kernel}…`;
        const guard = (await call(worker, { task: 'sideBySide', which: 'guard', kernel, model, batch: 64 })).result;
        window.benchResults.push({
          bench: 'overflow-guard',
          model,
          batch: 64,
          build: kernel,
          guarded_images_per_s: guard.on.median,
          unguarded_images_per_s: guard.off.median,
          guarded_min_max: [guard.on.min, guard.on.max],
          unguarded_min_max: [guard.off.min, guard.off.max],
          cost: 1 - guard.on.median / guard.off.median,
        });
        for (const [name, r] of [['guard on', guard.on], ['guard off', guard.off]]) tableRow(`train ${model}, batch 64, side by side`, `${kernel}, ${name}`, [r.median, r.min, r.max], 'images/s');
        state.textContent = `layer health against training ${model}, ${kernel}…`;
        const health = (await call(worker, { task: 'healthCost', kernel, model, batch: 64 })).result;
        window.benchResults.push({
          bench: 'layer-health',
          model,
          batch: 64,
          build: kernel,
          evals_per_epoch: health.evalsPerEpoch,
          epoch_images: health.epochImages,
          images_per_s: health.train.median,
          measure_ms: health.measureMs.median,
          measure_min_max: [health.measureMs.min, health.measureMs.max],
          cost: health.cost.median,
          cost_min_max: [health.cost.min, health.cost.max],
        });
        tableRow(`layer health, ${model}, ${health.evalsPerEpoch} evaluations per epoch`, `${kernel}, ms per measurement`, [health.measureMs.median, health.measureMs.min, health.measureMs.max], 'ms');
        tableRow(`layer health, ${model}, ${health.evalsPerEpoch} evaluations per epoch`, `${kernel}, share of training time`, [health.cost.median * 100, health.cost.min * 100, health.cost.max * 100], '%');
      }
    }
    const best = kernels.filter((k) => k !== 'scalar').at(-1);
    if (best) {
      state.textContent = `lenet5 training against GEMM 256³, ${best}…`;
      const eff = (await call(worker, { task: 'efficiency', kernel: best, model: 'lenet5', batch: 64 })).result;
      window.benchResults.push({
        bench: 'efficiency',
        model: 'lenet5',
        batch: 64,
        build: best,
        flops_per_image: eff.flopsPerImage,
        train_gflops: eff.train.median,
        gemm256_gflops: eff.gemm.median,
        ratio: eff.train.median / eff.gemm.median,
        train_min_max: [eff.train.min, eff.train.max],
        gemm256_min_max: [eff.gemm.min, eff.gemm.max],
      });
      tableRow('lenet5 training, batch 64 (FLOP rate)', best, [eff.train.median, eff.train.min, eff.train.max], 'GFLOP/s');
      tableRow('GEMM 256³, windows alternating with training', best, [eff.gemm.median, eff.gemm.min, eff.gemm.max], 'GFLOP/s');
      if (build === builds.at(-1)) await parallelFigures(worker, best);
    }
    worker.terminate();
  }
  state.textContent = 'TensorFlow.js cpu…';
  const tfjs = new Worker(new URL('./bench-tfjs-worker.js', import.meta.url));
  const { result, params, backend } = await call(tfjs, { batch: 64 });
  tfjs.terminate();
  record({ bench: 'train', model: 'lenet5', batch: 64, peer: 'tfjs-cpu', backend, params, images_per_s: result.median, images_per_s_min: result.min, images_per_s_max: result.max, windows: result.samples }, 'train lenet5, batch 64', 'images/s');
  state.textContent = 'done';
}

// 1 … every core: data-parallel LeNet-5 training (one run's batch split over
// W workers, www/shard-group.js), and a pure compute loop in W workers (what
// the hardware gives), each with its windows alternating between the counts.
async function parallelFigures(worker, kernel) {
  const cores = Math.min(navigator.hardwareConcurrency || 1, 8);
  const counts = Array.from({ length: cores }, (_, i) => i + 1);
  state.textContent = `lenet5 on 1 to ${cores} workers, ${kernel}…`;
  const parallel = (await call(worker, { task: 'trainParallel', kernel, model: 'lenet5', batch: 64, workers: counts })).result;
  for (const r of parallel.results) {
    window.benchResults.push({ bench: 'train-parallel', model: 'lenet5', batch: 64, build: kernel, transport: parallel.transport, workers: r.workers, images_per_s: r.median, images_per_s_min: r.min, images_per_s_max: r.max, windows: r.samples });
    tableRow(`train lenet5, batch 64, ${r.workers} worker${r.workers > 1 ? 's' : ''} (${parallel.transport})`, kernel, [r.median, r.min, r.max], 'images/s');
  }
  state.textContent = `a compute loop on 1 to ${cores} workers…`;
  const spinners = counts.map(() => new Worker(new URL('./spin-worker.js', import.meta.url)));
  const rates = Object.fromEntries(counts.map((c) => [c, []]));
  for (let window = 0; window < 5; window++) {
    for (const count of counts) {
      const results = await Promise.all(spinners.slice(0, count).map((w) => new Promise((resolve) => {
        w.onmessage = ({ data }) => resolve(data.rate);
        w.postMessage({ ms: 600 });
      })));
      rates[count].push(results.reduce((a, b) => a + b, 0));
    }
  }
  spinners.forEach((w) => w.terminate());
  const base = median(rates[1]);
  for (const count of counts) {
    window.benchResults.push({ bench: 'machine-scaling', workers: count, ratio: median(rates[count]) / base, ratio_min_max: [Math.min(...rates[count]) / base, Math.max(...rates[count]) / base] });
  }
  const one = parallel.results.find((r) => r.workers === 1).median;
  for (const r of parallel.results.filter((p) => p.workers > 1)) {
    window.benchResults.push({ bench: 'ratio', what: `lenet5 batch 64 on ${r.workers} workers / 1 worker (${parallel.transport})`, build: kernel, ratio: r.median / one, hardware_ratio: median(rates[r.workers]) / base });
  }
}

const button = document.getElementById('run');
button.addEventListener('click', async () => {
  button.disabled = true;
  rows.replaceChildren();
  window.benchResults = [];
  try {
    await run();
  } catch (err) {
    state.textContent = `failed: ${err.message}`;
  }
  button.disabled = false;
});
if (new URLSearchParams(location.search).has('auto')) button.click();
