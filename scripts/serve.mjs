// A small static file server for www/ on 127.0.0.1: ES modules and .wasm
// cannot load from file://, and .wasm must be served as application/wasm.
// Usage: node scripts/serve.mjs [--port N]   (PORT env works too; 0 = any free port)
//        FTL_ISOLATE=0 node scripts/serve.mjs  (without cross-origin isolation, see ISOLATION)

import http from 'node:http';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compressible, negotiateEncoding, representationOf, encodedBody, etagMatches, notModifiedSince } from './serve-cache.mjs';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.gz': 'application/octet-stream', // served as bytes: the core decompresses datasets itself
  '.bin': 'application/octet-stream',
};

// A strict Content-Security-Policy: scripts and styles only from this origin
// (no inline ones, no eval), wasm compiled by the page ('wasm-unsafe-eval',
// nothing more), no request to any other origin. The pages carry the same
// policy as a <meta> for static hosts that send no headers.
export const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";

// The one exception: the benchmark's TensorFlow.js peer evaluates strings
// (tf.min.js calls `Function(...)`), which no code of ours does. A worker
// takes its policy from its own script's response, so only that worker gets
// 'unsafe-eval'; the playground and the benchmark page stay strict.
const PEER_WORKER = '/bench/bench-tfjs-worker.js';
const PEER_CSP = CSP.replace("script-src 'self' 'wasm-unsafe-eval'", "script-src 'self' 'unsafe-eval'");

// Cross-origin isolation: SharedArrayBuffer and Atomics, which the
// data-parallel mode (www/shard-group.js) uses to exchange gradients between
// its workers; without it the workers fall back to messages, which were
// slower than one worker here. On by default (FTL_ISOLATE=0 switches it off;
// the page tests choose per test). Checked in Chromium: isolated, the page
// still works top-level and framed by another site, but framed it is
// isolated only if the embedder is too and delegates it (<iframe
// allow="cross-origin-isolated">), so a teacher's embed usually trains on
// messages. Its costs: COOP cuts the link to a cross-origin window.opener,
// and a response without COEP (a worker script a test fulfils, say) fails
// to load. Documents are CORP cross-origin so that an isolated embedder may
// frame them (same-origin blocks that); everything else is same-origin: no
// other site embeds it.
export const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export const WWW = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'www');

export function startServer({ port = 0, host = '127.0.0.1', root = WWW, isolate = process.env.FTL_ISOLATE !== '0' } = {}) {
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://localhost');
      let wanted;
      try {
        wanted = decodeURIComponent(url.pathname);
      } catch {
        return void res.writeHead(400, { 'Content-Type': 'text/plain' }).end('bad percent-encoding in the path');
      }
      if (wanted.includes('\0')) return void res.writeHead(400, { 'Content-Type': 'text/plain' }).end('a NUL byte in the path');
      let file = path.resolve(root, `.${path.posix.sep}${wanted}`);
      // Inside root itself, not merely a path that starts with root's name
      // (a sibling folder "www-other" starts with "www" too).
      if (file !== root && !file.startsWith(root + path.sep)) {
        return void res.writeHead(403, { 'Content-Type': 'text/plain' }).end('forbidden');
      }
      if ((await stat(file).catch(() => null))?.isDirectory()) file = path.join(file, 'index.html');
      await sendFile(req, res, file, {
        'Content-Type': MIME[path.extname(file)] || 'application/octet-stream',
        // Revalidate every time rather than a max-age: the file names carry no
        // content hash, so a rebuilt wasm must never be taken from the cache
        // unasked. With the validators below a revalidation is a bodiless 304.
        'Cache-Control': 'no-cache',
        'Content-Security-Policy': url.pathname === PEER_WORKER ? PEER_CSP : CSP,
        ...(isolate && {
          ...ISOLATION,
          'Cross-Origin-Resource-Policy': path.extname(file) === '.html' ? 'cross-origin' : 'same-origin',
        }),
      });
    } catch (err) {
      if (res.headersSent) return void res.destroy(err);
      res.writeHead(err.code === 'ENOENT' ? 404 : 500, { 'Content-Type': 'text/plain' }).end(String(err.code || err));
    }
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}

// One file as a 200 (in the encoding the client prefers, if it is worth
// compressing) or, when the client's copy is still this one, a bodiless 304.
async function sendFile(req, res, file, headers) {
  const handle = await open(file, 'r');
  try {
    const { representation, bytes } = await representationOf(file, handle);
    let reading;
    const fileBytes = () => (reading ??= bytes ? Promise.resolve(bytes) : handle.readFile());
    const encoding = negotiateEncoding(file, req.headers['accept-encoding']);
    const encoded = encoding && (await encodedBody(representation, encoding, fileBytes));
    const etag = `"${representation.hash}${encoded ? `-${encoded.suffix}` : ''}"`;
    const common = {
      ...headers,
      ETag: etag,
      'Last-Modified': representation.lastModified,
      ...(compressible(file) && { Vary: 'Accept-Encoding' }),
    };
    // If-Modified-Since counts only without If-None-Match (RFC 9110 13.2.2).
    const ifNoneMatch = req.headers['if-none-match'];
    const unchanged = ifNoneMatch !== undefined ? etagMatches(ifNoneMatch, etag) : notModifiedSince(req.headers['if-modified-since'], representation.lastModified);
    if (unchanged && (req.method === 'GET' || req.method === 'HEAD')) {
      delete common['Content-Type'];
      return void res.writeHead(304, common).end();
    }
    const body = encoded ? encoded.bytes : await fileBytes();
    res.writeHead(200, { ...common, ...(encoded && { 'Content-Encoding': encoded.name }), 'Content-Length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  } finally {
    await handle.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const flag = process.argv.indexOf('--port');
  const port = Number(flag > 0 ? process.argv[flag + 1] : process.env.PORT || 8080);
  const server = await startServer({ port });
  const { port: actual } = server.address();
  console.log(`Fine-Tune Lab is served at http://127.0.0.1:${actual}/  (Ctrl+C stops)`);
}
