// `make bench`'s memory figures: the real page trains the MLP for N and then
// 10·N steps, then builds and resets a run 50 times; after each phase the
// page's JS heap (after a forced garbage collection, through the DevTools
// protocol) and the worker's wasm memory (which never shrinks, so any leak
// stays) are read. The stated bounds: wasm memory after 10·N steps and after
// the 50 cycles is within 16 MiB of what it was after N steps, and the page's
// heap within 8 MiB.

import { openLab, byTestId } from '../tests/e2e/browser.mjs';
import { PROTOCOL_VERSION } from '../www/protocol.js';

const MIB = 1024 * 1024;
export const BOUNDS = { wasm_growth_bytes: 16 * MIB, js_heap_growth_bytes: 8 * MIB };

// Sends one protocol message to the page's worker from inside it (its
// onmessage, as a message from the page would arrive) and catches the reply
// before it reaches the page: the page's own state is left alone.
async function askWorker(page, type) {
  const worker = page.workers().find((w) => w.url().includes('worker.js'));
  return worker.evaluate(
    ([kind, version]) =>
      new Promise((resolve) => {
        const post = self.postMessage.bind(self);
        self.postMessage = (msg, transfer) => {
          if (msg && msg.id === 'bench' && msg.type === kind) {
            self.postMessage = post;
            resolve(msg.payload);
          } else post(msg, transfer);
        };
        self.onmessage({ data: { v: version, type: kind, id: 'bench', payload: {} } });
      }),
    [type, PROTOCOL_VERSION],
  );
}

const stepOf = (page) =>
  page.evaluate(() => {
    const match = /step ([\d,]+)/.exec(document.querySelector('[data-testid="status"]').textContent);
    return match ? Number(match[1].replace(/,/g, '')) : 0;
  });

// Trains on until the status shows at least `steps`, then pauses.
async function trainTo(page, steps) {
  await byTestId(page, 'train').click();
  await page.waitForFunction((n) => {
    const match = /step ([\d,]+)/.exec(document.querySelector('[data-testid="status"]').textContent);
    return match && Number(match[1].replace(/,/g, '')) >= n;
  }, steps, { timeout: 10 * 60_000 });
  await byTestId(page, 'pause').click();
  await page.waitForFunction(() => document.body.dataset.state === 'paused');
}

export async function benchMemory({ steps = 500, cycles = 50 } = {}) {
  const lab = await openLab();
  const { page } = lab;
  const cdp = await page.context().newCDPSession(page);
  const measure = async (phase) => {
    await cdp.send('HeapProfiler.collectGarbage');
    const { usedSize } = await cdp.send('Runtime.getHeapUsage');
    const wasmBytes = await askWorker(page, 'memory').then((reply) => reply.wasmBytes);
    return { phase, step: await stepOf(page), js_heap_bytes: usedSize, wasm_bytes: wasmBytes };
  };
  await byTestId(page, 'model').selectOption('mlp');
  await byTestId(page, 'epochs').fill('200');
  const phases = [];
  await trainTo(page, steps);
  phases.push(await measure(`after ${steps} steps`));
  await trainTo(page, 10 * steps);
  phases.push(await measure(`after ${10 * steps} steps`));
  for (let i = 0; i < cycles; i++) {
    await byTestId(page, 'reset').click();
    await page.waitForFunction(() => document.body.dataset.state === 'idle');
    await byTestId(page, 'train').click();
    await page.waitForFunction(() => document.body.dataset.state === 'training');
  }
  await byTestId(page, 'pause').click();
  phases.push(await measure(`after ${cycles} configure/reset cycles`));
  await lab.close();
  const [first, ...rest] = phases;
  const wasmGrowth = Math.max(...rest.map((p) => p.wasm_bytes - first.wasm_bytes));
  const heapGrowth = Math.max(...rest.map((p) => p.js_heap_bytes - first.js_heap_bytes));
  return {
    bench: 'memory',
    model: 'mlp',
    phases,
    wasm_growth_bytes: wasmGrowth,
    js_heap_growth_bytes: heapGrowth,
    bounds: BOUNDS,
    within_bounds: wasmGrowth <= BOUNDS.wasm_growth_bytes && heapGrowth <= BOUNDS.js_heap_growth_bytes,
  };
}
