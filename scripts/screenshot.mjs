// Takes a screenshot of the page after a few seconds of training, to look at
// the page as a user would:
//   node scripts/screenshot.mjs [out.png] [seconds] [model] [width] [light|dark]
import { openLab, byTestId } from '../tests/e2e/browser.mjs';

const [out = 'screenshot.png', seconds = '6', model = 'mlp', width = '1280', colorScheme = 'light'] = process.argv.slice(2);
const viewport = { width: Number(width), height: Number(width) > 800 ? 900 : 740 };
const { page, close, consoleErrors } = await openLab({ contextOptions: { viewport, colorScheme } });
await byTestId(page, 'model').selectOption(model);
await byTestId(page, 'train').click();
await page.waitForTimeout(Number(seconds) * 1000);
await page.screenshot({ path: out, fullPage: true });
await page.screenshot({ path: out.replace(/\.png$/, '-viewport.png') });
console.log(JSON.stringify({ out, status: await byTestId(page, 'status').textContent(), scrollWidth: await page.evaluate(() => document.documentElement.scrollWidth), consoleErrors }));
await close();
