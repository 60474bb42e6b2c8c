// The static server (scripts/serve.mjs), over real HTTP on a free port: it
// serves files below its root with their types and nothing outside it —
// not through `..`, not through an encoded slash, not in a sibling folder
// whose name starts with the root's — and a malformed path is a 400. A
// repeat request costs a bodiless 304 (strong content ETags, Last-Modified);
// text and wasm go out as brotli or gzip as the client asks, the .gz
// datasets exactly as stored; cross-origin isolation only when asked for.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import http from 'node:http';
import zlib from 'node:zlib';
import { startServer, CSP, WWW, ISOLATION } from '../../scripts/serve.mjs';

// Compressible and big enough for compression to pay; a different text
// each run, so no cache of an earlier run could answer for it.
const SCRIPT = `// ${Date.now()}\n` + Array.from({ length: 800 }, (_, i) => `export const value${i} = ${i * 7} * factor; // line ${i}`).join('\n');
const DATASET = zlib.gzipSync(Buffer.from('FTLD'.repeat(5000))); // as the .ftld.gz files are: gzip bytes

let server, port, top;
before(async () => {
  top = mkdtempSync(path.join(tmpdir(), 'ftl-serve-'));
  mkdirSync(path.join(top, 'www', 'sub'), { recursive: true });
  mkdirSync(path.join(top, 'www-other'));
  writeFileSync(path.join(top, 'www', 'index.html'), '<p>home</p>');
  writeFileSync(path.join(top, 'www', 'sub', 'm.wasm'), 'wasm');
  writeFileSync(path.join(top, 'www-other', 'secret.txt'), 'secret');
  writeFileSync(path.join(top, 'outside.txt'), 'outside');
  writeFileSync(path.join(top, 'www', 'app.js'), SCRIPT);
  writeFileSync(path.join(top, 'www', 'changing.js'), SCRIPT);
  writeFileSync(path.join(top, 'www', 'sub', 'set.ftld.gz'), DATASET);
  writeFileSync(path.join(top, 'www', 'tiny.css'), 'p{}');
  server = await startServer({ port: 0, root: path.join(top, 'www'), isolate: false }); // whatever FTL_ISOLATE says
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

// Any method and headers; the body as bytes, undecoded.
function request(rawPath, { method = 'GET', headers = {}, to = port } = {}) {
  return new Promise((resolve, reject) => {
    http
      .request({ host: '127.0.0.1', port: to, path: rawPath, method, headers }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      })
      .on('error', reject)
      .end();
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

test('a response carries validators and is revalidated on every use', async () => {
  const { status, headers, body } = await request('/app.js');
  assert.equal(status, 200);
  assert.equal(body.toString(), SCRIPT);
  assert.match(headers.etag, /^"[A-Za-z0-9_-]{22}"$/, 'a strong ETag');
  assert.ok(!Number.isNaN(Date.parse(headers['last-modified'])), headers['last-modified']);
  assert.equal(headers['cache-control'], 'no-cache');
  assert.equal(headers['content-length'], String(body.length));
  assert.equal(headers['content-security-policy'], CSP);
});

test('If-None-Match with the current ETag is a 304 without a body', async () => {
  const { headers } = await request('/app.js');
  const again = await request('/app.js', { headers: { 'If-None-Match': headers.etag } });
  assert.equal(again.status, 304);
  assert.equal(again.body.length, 0);
  assert.equal(again.headers.etag, headers.etag);
  assert.equal(again.headers['content-security-policy'], CSP, 'the refreshed headers keep the policy');
  assert.equal((await request('/app.js', { headers: { 'If-None-Match': `"other", W/${headers.etag}` } })).status, 304, 'in a list, weakly compared');
  assert.equal((await request('/app.js', { headers: { 'If-None-Match': '*' } })).status, 304);
  assert.equal((await request('/app.js', { headers: { 'If-None-Match': '"other"' } })).status, 200);
});

test('If-Modified-Since is a 304 from Last-Modified on, and yields to If-None-Match', async () => {
  const { headers } = await request('/app.js');
  const lastModified = Date.parse(headers['last-modified']);
  const since = (ms) => new Date(ms).toUTCString();
  assert.equal((await request('/app.js', { headers: { 'If-Modified-Since': headers['last-modified'] } })).status, 304);
  assert.equal((await request('/app.js', { headers: { 'If-Modified-Since': since(lastModified + 60_000) } })).status, 304);
  const older = await request('/app.js', { headers: { 'If-Modified-Since': since(lastModified - 1000) } });
  assert.equal(older.status, 200);
  assert.equal(older.body.toString(), SCRIPT);
  assert.equal((await request('/app.js', { headers: { 'If-Modified-Since': 'not a date' } })).status, 200);
  const both = await request('/app.js', { headers: { 'If-None-Match': '"other"', 'If-Modified-Since': headers['last-modified'] } });
  assert.equal(both.status, 200, 'a mismatching If-None-Match wins over a matching If-Modified-Since');
});

test('a changed file gets a new ETag; one rewritten with the same bytes keeps it', async () => {
  const file = path.join(top, 'www', 'changing.js');
  const first = (await request('/changing.js')).headers;
  // Same size, other content: only the mtime tells (set apart, in case the write lands in the same tick).
  const changed = SCRIPT.replace('value0 ', 'VALUE0 ');
  writeFileSync(file, changed);
  utimesSync(file, new Date(), new Date(Date.now() + 5000));
  const second = await request('/changing.js', { headers: { 'If-None-Match': first.etag } });
  assert.equal(second.status, 200, 'the old ETag no longer matches');
  assert.equal(second.body.toString(), changed);
  assert.notEqual(second.headers.etag, first.etag);
  // A rebuild that writes the same bytes again: a new mtime, the same content hash.
  writeFileSync(file, changed);
  utimesSync(file, new Date(), new Date(Date.now() + 10_000));
  const third = await request('/changing.js', { headers: { 'If-None-Match': second.headers.etag } });
  assert.equal(third.status, 304);
  assert.notEqual(third.headers['last-modified'], second.headers['last-modified']);
});

test('brotli and gzip bodies decompress to the file, each with its own ETag', async () => {
  const identity = await request('/app.js');
  const br = await request('/app.js', { headers: { 'Accept-Encoding': 'gzip, deflate, br' } });
  const gz = await request('/app.js', { headers: { 'Accept-Encoding': 'gzip' } });
  assert.equal(br.headers['content-encoding'], 'br', 'br is preferred');
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.equal(identity.headers['content-encoding'], undefined, 'no Accept-Encoding: the file as it is');
  assert.deepEqual(zlib.brotliDecompressSync(br.body), Buffer.from(SCRIPT));
  assert.deepEqual(zlib.gunzipSync(gz.body), Buffer.from(SCRIPT));
  for (const r of [identity, br, gz]) {
    assert.equal(r.headers['content-length'], String(r.body.length));
    assert.equal(r.headers.vary, 'Accept-Encoding');
    assert.equal(r.headers['content-type'], 'text/javascript; charset=utf-8');
  }
  assert.ok(br.body.length < SCRIPT.length / 3 && gz.body.length < SCRIPT.length / 3, 'much smaller');
  assert.equal(new Set([identity.headers.etag, br.headers.etag, gz.headers.etag]).size, 3);
  assert.equal(br.headers.etag, identity.headers.etag.replace(/"$/, '-br"'));
  // Each ETag validates its own encoding only.
  assert.equal((await request('/app.js', { headers: { 'Accept-Encoding': 'br', 'If-None-Match': br.headers.etag } })).status, 304);
  assert.equal((await request('/app.js', { headers: { 'Accept-Encoding': 'gzip', 'If-None-Match': br.headers.etag } })).status, 200);
  assert.equal((await request('/app.js', { headers: { 'If-None-Match': gz.headers.etag } })).status, 200);
});

test('Accept-Encoding q-values are honoured', async () => {
  const encodingFor = async (accept) => (await request('/app.js', { headers: { 'Accept-Encoding': accept } })).headers['content-encoding'];
  assert.equal(await encodingFor('br;q=0.5, gzip'), 'gzip');
  assert.equal(await encodingFor('br;q=0, gzip;q=0.1'), 'gzip');
  assert.equal(await encodingFor('gzip;q=0, br;q=0'), undefined);
  assert.equal(await encodingFor('identity'), undefined);
  assert.equal(await encodingFor('*'), 'br');
  assert.equal(await encodingFor('deflate'), undefined);
});

test('the .gz datasets go out exactly as stored, never with a Content-Encoding', async () => {
  for (const accept of [undefined, 'gzip, deflate, br']) {
    const { status, headers, body } = await request('/sub/set.ftld.gz', { headers: accept ? { 'Accept-Encoding': accept } : {} });
    assert.equal(status, 200);
    assert.deepEqual(body, DATASET);
    assert.equal(headers['content-type'], 'application/octet-stream');
    assert.equal(headers['content-encoding'], undefined);
    assert.equal(headers.vary, undefined, 'nothing to negotiate');
    assert.equal(headers['content-length'], String(DATASET.length));
    assert.match(headers.etag, /^"[A-Za-z0-9_-]{22}"$/);
  }
});

test('a file that compression would not shrink goes out as it is', async () => {
  const { headers, body } = await request('/tiny.css', { headers: { 'Accept-Encoding': 'br, gzip' } });
  assert.equal(body.toString(), 'p{}');
  assert.equal(headers['content-encoding'], undefined);
  assert.equal(headers.vary, 'Accept-Encoding');
});

test('HEAD has the headers of GET and no body', async () => {
  for (const accept of [undefined, 'br']) {
    const headers = accept ? { 'Accept-Encoding': accept } : {};
    const get = await request('/app.js', { headers });
    const head = await request('/app.js', { method: 'HEAD', headers });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    for (const name of ['etag', 'last-modified', 'content-length', 'content-type', 'content-encoding', 'vary']) assert.equal(head.headers[name], get.headers[name], name);
    assert.equal((await request('/app.js', { method: 'HEAD', headers: { ...headers, 'If-None-Match': get.headers.etag } })).status, 304);
  }
});

test('cross-origin isolation only when asked for', async () => {
  for (const name of ['cross-origin-opener-policy', 'cross-origin-embedder-policy', 'cross-origin-resource-policy']) {
    assert.equal((await request('/')).headers[name], undefined, name);
  }
  const isolated = await startServer({ port: 0, root: path.join(top, 'www'), isolate: true });
  try {
    const to = isolated.address().port;
    for (const target of ['/', '/app.js', '/sub/m.wasm']) {
      const { headers } = await request(target, { to });
      assert.equal(headers['cross-origin-opener-policy'], ISOLATION['Cross-Origin-Opener-Policy']);
      assert.equal(headers['cross-origin-embedder-policy'], 'require-corp');
      // A document may be framed by an isolated embedder; nothing else may be embedded elsewhere.
      assert.equal(headers['cross-origin-resource-policy'], target === '/' ? 'cross-origin' : 'same-origin', target);
    }
    const { headers } = await request('/app.js', { to });
    const revalidated = await request('/app.js', { to, headers: { 'If-None-Match': headers.etag } });
    assert.equal(revalidated.status, 304);
    assert.equal(revalidated.headers['cross-origin-embedder-policy'], 'require-corp');
  } finally {
    await new Promise((resolve) => isolated.close(resolve));
  }
});
