// What lets scripts/serve.mjs make a repeat load cost almost nothing and a
// first load smaller: a strong ETag from each file's content (computed once
// per version of the file, not per request), conditional requests, and
// gzip/brotli bodies compressed once per file version and kept in memory.

import { createHash } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

// wasm and text shrink 3-4x. Everything else goes out as stored, with no
// Content-Encoding, as before: the .gz datasets are gzip already (the core
// inflates them itself), so are PNGs, and checkpoints (.ftlc, float
// weights) shrink 8% at best.
const COMPRESSIBLE = new Set(['.wasm', '.js', '.mjs', '.css', '.html', '.json', '.svg']);

export const compressible = (file) => COMPRESSIBLE.has(path.extname(file));

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

// Brotli quality 9, not 11: 11 takes 3.4 s on the 980 KB wasm (for 10% less,
// 285 KB instead of 316 KB), paid by the first load after every rebuild and
// by every test process; 9 takes 0.2 s. A static host can precompress at 11.
// The suffix makes each encoding's ETag distinct, as RFC 9110 8.8.3 requires.
const ENCODINGS = {
  br: {
    suffix: 'br',
    compress: (bytes) =>
      brotli(bytes, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 9, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } }),
  },
  gzip: { suffix: 'gz', compress: (bytes) => gzip(bytes, { level: 9 }) },
};

// The coding to send for an Accept-Encoding header: br unless gzip has a
// higher q-value, identity (null) when neither is acceptable.
export function negotiateEncoding(file, acceptEncoding) {
  if (!compressible(file) || !acceptEncoding) return null;
  const weights = new Map();
  for (const part of acceptEncoding.toLowerCase().split(',')) {
    const [coding, ...params] = part.split(';').map((s) => s.trim());
    const q = params.find((p) => p.startsWith('q='));
    weights.set(coding, q ? Number(q.slice(2)) : 1);
  }
  const weightOf = (coding) => weights.get(coding) ?? weights.get('*') ?? 0;
  const br = weightOf('br');
  const gz = weightOf('gzip');
  if (br > 0 && br >= gz) return 'br';
  return gz > 0 ? 'gzip' : null;
}

// Absolute path → the representation of the version last seen. Bounded by
// the files under the root; only compressible ones keep bytes (compressed).
const representations = new Map();

// The file's current representation, read from the open `handle` so stat and
// bytes come from the same file. Rehashed only when size, mtime or inode
// changed; `bytes` is the content when it had to be read for that, else null.
export async function representationOf(file, handle) {
  const stats = await handle.stat({ bigint: true });
  if (!stats.isFile()) throw Object.assign(new Error(`${file} is not a file`), { code: 'EISDIR' });
  const key = `${stats.size}:${stats.mtimeNs}:${stats.ino}`;
  const known = representations.get(file);
  if (known?.key === key) return { representation: known, bytes: null };
  const bytes = await handle.readFile();
  const representation = {
    key,
    hash: createHash('sha256').update(bytes).digest('base64url').slice(0, 22),
    lastModified: new Date(Number(stats.mtimeMs)).toUTCString(),
    encoded: new Map(),
  };
  representations.set(file, representation);
  return { representation, bytes };
}

// {name, suffix, bytes} of the representation in `name`'s coding, compressed
// at most once (concurrent requests share the work); null when compressing
// would not make it smaller. `fileBytes()` gives the uncompressed content.
export function encodedBody(representation, name, fileBytes) {
  let pending = representation.encoded.get(name);
  if (!pending) {
    pending = (async () => {
      const bytes = await fileBytes();
      const compressed = await ENCODINGS[name].compress(bytes);
      return compressed.length < bytes.length ? { name, suffix: ENCODINGS[name].suffix, bytes: compressed } : null;
    })();
    representation.encoded.set(name, pending);
    pending.catch(() => representation.encoded.delete(name)); // a failure may be retried
  }
  return pending;
}

// If-None-Match uses the weak comparison (RFC 9110 13.1.2): W/ is ignored.
export function etagMatches(ifNoneMatch, etag) {
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

// Last-Modified has one-second resolution, as does the date the client echoes.
export function notModifiedSince(ifModifiedSince, lastModified) {
  const since = Date.parse(ifModifiedSince ?? '');
  return !Number.isNaN(since) && Date.parse(lastModified) <= since;
}
