import { openLab, byTestId } from './browser.mjs';
for (const isolate of [false, true]) {
  for (const workers of ['1', '2']) {
    const lab = await openLab({ isolate });
    const { page } = lab;
    await byTestId(page, 'model').selectOption('lenet5');
    await byTestId(page, 'epochs').fill('1');
    await byTestId(page, 'workers').selectOption(workers);
    const t = Date.now();
    await byTestId(page, 'train').click();
    await page.waitForFunction(() => ['done', 'failed', 'crashed', 'diverged'].includes(document.body.dataset.state), null, { timeout: 120000 });
    const r = await page.evaluate(() => ({ state: document.body.dataset.state, iso: self.crossOriginIsolated, val: document.querySelector('[data-testid="val-acc"]').textContent, test: document.querySelector('[data-testid="test-acc"]').textContent, info: document.querySelector('[data-testid="run-info"]')?.textContent, speed: document.querySelector('[data-testid="images-per-s"]').textContent }));
    console.log(isolate, workers, (Date.now() - t) / 1000, JSON.stringify(r), lab.consoleErrors.slice(0, 3));
    await lab.close();
  }
}
