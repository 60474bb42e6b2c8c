import { openLab, byTestId } from './browser.mjs';
const lab = await openLab({ isolate: true });
const { page } = lab;
await byTestId(page, 'model').selectOption('mlp');
await byTestId(page, 'epochs').fill('50');
await byTestId(page, 'workers').selectOption('2');
await byTestId(page, 'train').click();
await page.waitForFunction(() => Number(document.body.dataset.resumeStep) > 0, null, { timeout: 60_000 });
console.log(page.workers().map((w) => w.url()));
const shard = page.workers().find((w) => /shard-worker\.js/.test(w.url()));
await shard.evaluate(() => self.close()).catch((e) => console.log('eval', e.message));
for (let i = 0; i < 8; i++) { await page.waitForTimeout(3000); console.log(i, await page.evaluate(() => document.body.dataset.state), await byTestId(page, 'status').textContent()); }
console.log(lab.consoleErrors);
await lab.close();
