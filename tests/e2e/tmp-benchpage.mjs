import { openLab } from './browser.mjs';
const lab = await openLab({ path: 'bench/bench.html?auto', readyState: null, isolate: true });
const { page } = lab;
await page.waitForFunction(() => /^(done|failed)/.test(document.getElementById('state').textContent), null, { timeout: 20 * 60_000 });
console.log(await page.locator('#state').textContent());
for (const l of await page.evaluate(() => window.benchResults)) if (['train-parallel','machine-scaling','efficiency','ratio','train'].includes(l.bench)) console.log(JSON.stringify(l));
await lab.close();
