import { openLab } from './browser.mjs';
const lab = await openLab({ path: 'bench/bench.html', readyState: null, isolate: true });
const { page } = lab;
await page.waitForTimeout(500);
const r = await page.evaluate(async () => {
  const mk = () => new Worker(new URL('./bench-worker.js?build=relaxed', location.href), { type: 'module' });
  const call = (w, m) => new Promise((res) => { w.onmessage = ({ data }) => res(data.result && data.result.median); w.postMessage(m); });
  const a = mk(), b = mk();
  const job = { task: 'train', kernel: 'relaxed', model: 'lenet5', batch: 32, windows: 3, windowMs: 1000, warmupMs: 500 };
  const alone = await call(a, job);
  const both = await Promise.all([call(a, job), call(b, job)]);
  return { alone, both, cores: navigator.hardwareConcurrency };
});
console.log(JSON.stringify(r));
await lab.close();
