import { openLab } from './browser.mjs';
for (const isolate of [true]) {
  const lab = await openLab({ path: 'bench/bench.html', readyState: null, isolate });
  const { page } = lab;
  await page.waitForTimeout(500);
  const r = await page.evaluate(async () => {
    const w = new Worker(new URL('./bench-worker.js?build=relaxed', location.href), { type: 'module' });
    const call = (m) => new Promise((res) => { w.onmessage = ({ data }) => res(data); w.postMessage(m); });
    const out = [];
    for (const batch of [64]) out.push([batch, await call({ task: 'trainParallel', kernel: 'relaxed', model: 'lenet5', batch, workers: [1, 2], windows: 3, windowMs: 1000 })]);
    return out;
  });
  console.log(isolate, JSON.stringify(r));
  await lab.close();
}
