// The static server (scripts/serve.mjs), over real HTTP on a free port: it
// serves files below its root with their types and nothing outside it —
// not through `..`, not through an encoded slash, not in a sibling folder
// whose name starts with the root's — and a malformed path is a 400.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { startServer, CSP, WWW } from '../../scripts/serve.mjs';

let server, port;
before(async () => {
  const top = mkdtempSync(path.join(tmpdir(), 'ftl-serve-'));
  mkdirSync(path.join(top, 'www', 'sub'), { recursive: true });
  mkdirSync(path.join(top, 'www-other'));
  writeFileSync(path.join(top, 'www', 'index.html'), '<p>home</p>');
  writeFileSync(path.join(top, 'www', 'sub', 'm.wasm'), 'wasm');
  writeFileSync(path.join(top, 'www-other', 'secret.txt'), 'secret');
  writeFileSync(path.join(top, 'outside.txt'), 'outside');
  server = await startServer({ port: 0, root: path.join(top, 'www') });
  port = server.address().port;
});
after(() => new Promise((resolve) => server.close(resolve)));

// Raw paths, as a hostile client sends them (fetch would normalise `..` away).
function get(rawPath) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: rawPath }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], body }));
    }).on('error', reject);
  });
}

test('files below the root are served with their types', async () => {
  assert.deepEqual(await get('/'), { status: 200, type: 'text/html; charset=utf-8', body: '<p>home</p>' });
  const wasm = await get('/sub/m.wasm');
  assert.equal(wasm.status, 200);
  assert.equal(wasm.type, 'application/wasm');
  assert.equal((await get('/missing.js')).status, 404);
});

test('nothing outside the root is served', async () => {
  for (const raw of ['/..%2fwww-other/secret.txt', '/../www-other/secret.txt', '/..%2f..%2foutside.txt', '/%2e%2e/outside.txt', '/sub/..%2f..%2foutside.txt']) {
    const { status, body } = await get(raw);
    assert.ok(status === 403 || status === 404, `${raw}: ${status}`);
    assert.ok(!body.includes('secret') && !body.includes('outside'), raw);
  }
});

test('a malformed path is a 400, not a 500', async () => {
  assert.equal((await get('/%E0%A4%A')).status, 400);
  assert.equal((await get('/a%00b')).status, 400);
});

test('the pages carry the server’s policy as a <meta>, for static hosts', () => {
  for (const page of ['index.html', 'bench/bench.html']) {
    const html = readFileSync(path.join(WWW, page), 'utf8');
    const meta = html.match(/<meta http-equiv="Content-Security-Policy" content="([^"]*)">/);
    assert.ok(meta, `${page} has the policy`);
    assert.equal(meta[1], CSP, `${page}: the same policy as scripts/serve.mjs sends`);
  }
});
