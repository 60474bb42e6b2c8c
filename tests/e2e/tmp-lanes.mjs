import { openLab, byTestId } from './browser.mjs';
for (const workers of ['1', '2']) {
  const lab = await openLab({ isolate: false });
  const { page } = lab;
  await byTestId(page, 'experiment').selectOption('new-classes');
  await byTestId(page, 'workers').selectOption(workers);
  const t = Date.now();
  await byTestId(page, 'train').click();
  await page.waitForFunction(() => ['done', 'failed', 'crashed', 'diverged'].includes(document.body.dataset.state), null, { timeout: 300000 });
  const r = await page.evaluate(() => ({ state: document.body.dataset.state, status: document.querySelector('[data-testid="status"]').textContent, info: document.querySelector('[data-testid="run-info"]')?.textContent, results: [...document.querySelectorAll('[data-testid="run-val-acc"], [data-testid="run-test-acc"]')].map((e) => e.textContent).join(' ') }));
  console.log(workers, (Date.now() - t) / 1000, JSON.stringify(r), lab.consoleErrors.slice(0, 3));
  await lab.close();
}
