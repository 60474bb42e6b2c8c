// What loading the page costs on the wire, first with an empty cache and then
// on a reload: bytes as transferred (headers and compressed bodies: the
// DevTools protocol's encodedDataLength, as Playwright reports it), requests,
// how many were answered 304 Not Modified, and ms until the page is idle
// (the first load includes compressing each file once on a fresh server).
// Prints JSON lines like `make bench`'s figures. Blind spot: for the worker's
// own script Playwright reports only the headers, never the body (about 4 KB
// with brotli, 15 KB without).
// Usage: node scripts/bench-load.mjs [--detail]   (--detail: one line per request, to stderr)

/* global document -- only inside page.waitForFunction, which runs in the page */
import { openLab } from '../tests/e2e/browser.mjs';

const detail = process.argv.includes('--detail');
// A function, not a string: the page's CSP forbids evaluating strings.
const idle = () => document.body.dataset.state === 'idle';
const QUIET_MS = 500; // no request in flight this long: the load is over

// Every request the page and its workers make. Through Playwright's events,
// not a CDP session of our own: a page's session does not see the requests
// of its dedicated workers (the wasm and the datasets), Playwright's sessions
// do. Its sizes() are CDP's: headers + body = encodedDataLength.
function recordNetwork(context) {
  let requests = new Map();
  const settled = async (request, failure) => {
    const r = requests.get(request);
    if (!r) return;
    if (failure) return void Object.assign(r, { failed: failure, done: true });
    const response = await request.response();
    const sizes = await request.sizes();
    Object.assign(r, {
      status: response?.status() ?? null,
      encoding: (await response?.headerValue('content-encoding')) ?? null,
      bytes: sizes.responseHeadersSize + sizes.responseBodySize,
      bodyBytes: sizes.responseBodySize,
      typed: (await response?.allHeaders())?.['content-type'] !== undefined, // as sent, not as cached
      done: true,
    });
  };
  context.on('request', (request) => {
    if (/^https?:/.test(request.url())) requests.set(request, { url: request.url(), status: null, bytes: 0, done: false });
  });
  context.on('requestfinished', (request) => settled(request));
  context.on('requestfailed', (request) => settled(request, request.failure()?.errorText ?? 'failed'));
  return {
    // Hands over what was recorded since the last call and starts afresh.
    take() {
      const taken = [...requests.values()];
      requests = new Map();
      return taken;
    },
    inFlight: () => [...requests.values()].some((r) => !r.done),
  };
}

// Resolves with the time the page became idle, once its requests are over.
async function settle(page, network) {
  await page.waitForFunction(idle, null, { timeout: 60_000 });
  const idleAt = performance.now();
  let quietSince = Date.now();
  while (Date.now() - quietSince < QUIET_MS) {
    await new Promise((r) => setTimeout(r, 50));
    if (network.inFlight()) quietSince = Date.now();
  }
  return idleAt;
}

function report(load, requests, ms) {
  const failed = requests.filter((r) => r.failed);
  if (failed.length) throw new Error(`${load} load: ${failed.map((r) => `${r.url}: ${r.failed}`).join(', ')}`);
  const line = {
    bench: 'page-load',
    visit: load,
    bytes: requests.reduce((sum, r) => sum + r.bytes, 0),
    requests: requests.length,
    // Playwright reports some revalidations (the document's, the worker's
    // imports) with the cached copy's status 200; what scripts/serve.mjs
    // sent was a 304: no body and no Content-Type.
    ...(load === 'repeat' && { not_modified: requests.filter((r) => r.status === 304 || (r.bodyBytes === 0 && !r.typed)).length }),
    ms_to_ready: Math.round(ms),
  };
  console.log(JSON.stringify(line));
  if (detail) for (const r of requests) console.error(JSON.stringify({ load, url: new URL(r.url).pathname, status: r.status, encoding: r.encoding ?? null, bytes: r.bytes, body_bytes: r.bodyBytes }));
}

let network, started;
// Served as `make serve` serves it (cross-origin isolated).
const lab = await openLab({
  isolate: true,
  readyState: null,
  beforeGoto: (page) => {
    network = recordNetwork(page.context());
    started = performance.now();
  },
});
try {
  const firstIdle = await settle(lab.page, network);
  report('first', network.take(), firstIdle - started);
  const reloaded = performance.now();
  await lab.page.reload();
  const repeatIdle = await settle(lab.page, network);
  report('repeat', network.take(), repeatIdle - reloaded);
} finally {
  await lab.close();
}
