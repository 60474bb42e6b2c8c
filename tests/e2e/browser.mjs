// Shared setup for page tests and page measurements: serve www/ on a free
// port and launch Debian's Chromium through playwright-core (no downloaded browser).

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from '../../scripts/serve.mjs';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// Without the background-networking flags Chromium keeps trying to reach the
// (closed) network; as root it needs --no-sandbox.
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

// `beforeGoto(page)` runs before the page loads (e.g. to route requests);
// `readyState` is the body[data-state] to wait for (null: don't wait);
// `contextOptions` go to Playwright's browser context (e.g. bypassCSP, so
// the accessibility test can inject axe into a page whose CSP allows only
// its own scripts; colorScheme; viewport); `isolate`: the server sends
// COOP/COEP, so the page is cross-origin isolated (shared memory).
export async function openLab({ path: pagePath = '', readyState = 'idle', beforeGoto = null, contextOptions = {}, isolate = false } = {}) {
  const server = await startServer({ port: 0, isolate });
  const url = `http://127.0.0.1:${server.address().port}/${pagePath}`;
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'ftl-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 900 },
    ...contextOptions,
  });
  const page = context.pages()[0] || (await context.newPage());
  const consoleErrors = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  // Every request must go to our own server: images and weights never leave the machine.
  const foreignRequests = [];
  const origin = new URL(url).origin;
  context.on('request', (r) => {
    const target = new URL(r.url());
    if ((target.protocol === 'http:' || target.protocol === 'https:' || target.protocol === 'ws:') && target.origin !== origin) foreignRequests.push(r.url());
  });
  // Content-Security-Policy violations, in the page and as reported to it.
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(`${e.violatedDirective}: ${e.blockedURI}`));
  });
  if (beforeGoto) await beforeGoto(page);
  await page.goto(url);
  if (readyState) await page.waitForFunction((s) => document.body.dataset.state === s, readyState, { timeout: 30_000 });
  const close = async () => {
    await context.close();
    await new Promise((r) => server.close(r));
  };
  const cspViolations = () => page.evaluate(() => window.__cspViolations);
  return { page, consoleErrors, foreignRequests, cspViolations, close, url };
}

// A page of its own for one test (node:test's `t`), closed when the test ends,
// so tests can run in any order.
export async function labFor(t, options) {
  const lab = await openLab(options);
  t.after(() => lab.close());
  return lab;
}

export const byTestId = (page, id) => page.locator(`[data-testid="${id}"]`);

// Resolves after the page's next two animation frames: whatever it scheduled
// for the next frame (the charts draw there) has been done.
export const nextFrames = (page) => page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));

// Resolves once the element that `selector` finds is not `old` (a handle to
// the element shown before) and has the properties in `expect` (e.g.
// {checked: false}): the panel re-rendered with what the worker confirmed.
export const waitForNew = (page, selector, old, expect = {}) =>
  page.waitForFunction(
    ([sel, before, props]) => {
      const el = document.querySelector(sel);
      return el !== null && el !== before && Object.entries(props).every(([key, value]) => el[key] === value);
    },
    [selector, old, expect],
  );

// Presses Train and waits until this run has trained and ended (done,
// diverged or crashed), even when the page was already done with an earlier
// run; returns the final state.
export async function trainUntilDone(page, { timeout = 120_000 } = {}) {
  await page.evaluate(() => {
    window.__states = [];
    new MutationObserver(() => window.__states.push(document.body.dataset.state)).observe(document.body, { attributes: true, attributeFilter: ['data-state'] });
  });
  await byTestId(page, 'train').click();
  await page.waitForFunction(() => window.__states.includes('training') && ['done', 'diverged', 'crashed'].includes(document.body.dataset.state), null, { timeout });
  return page.evaluate(() => document.body.dataset.state);
}
