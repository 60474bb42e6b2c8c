// Takes a screenshot of the page after a few seconds of training, to look at
// the page as a user would: node scripts/screenshot.mjs [out.png] [seconds] [model]
import { openLab, byTestId } from '../tests/e2e/browser.mjs';

const [out = 'screenshot.png', seconds = '6', model = 'mlp'] = process.argv.slice(2);
const { page, close, consoleErrors } = await openLab();
await byTestId(page, 'model').selectOption(model);
await byTestId(page, 'train').click();
await page.waitForTimeout(Number(seconds) * 1000);
await page.screenshot({ path: out, fullPage: true });
console.log(JSON.stringify({ out, status: await byTestId(page, 'status').textContent(), consoleErrors }));
await close();
