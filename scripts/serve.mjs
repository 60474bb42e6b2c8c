// A small static file server for www/ on 127.0.0.1: ES modules and .wasm
// cannot load from file://, and .wasm must be served as application/wasm.
// Usage: node scripts/serve.mjs [--port N]   (PORT env works too; 0 = any free port)

import http from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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

export const WWW = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'www');

export function startServer({ port = 0, host = '127.0.0.1', root = WWW } = {}) {
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
      const body = await readFile(file);
      res.writeHead(200, {
        'Content-Type': MIME[path.extname(file)] || 'application/octet-stream',
        'Cache-Control': 'no-cache',
        'Content-Security-Policy': url.pathname === PEER_WORKER ? PEER_CSP : CSP,
      });
      res.end(body);
    } catch (err) {
      res.writeHead(err.code === 'ENOENT' ? 404 : 500, { 'Content-Type': 'text/plain' }).end(String(err.code || err));
    }
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const flag = process.argv.indexOf('--port');
  const port = Number(flag > 0 ? process.argv[flag + 1] : process.env.PORT || 8080);
  const server = await startServer({ port });
  const { port: actual } = server.address();
  console.log(`Fine-Tune Lab is served at http://127.0.0.1:${actual}/  (Ctrl+C stops)`);
}
