// Serves the built dashboard: content types, immutable caching for hashed assets, ETags, gzip when asked.

import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { TrellisError } from '../../shared/errors.js';
import { acceptsGzip, sendError } from './respond.js';
import type { RawHandler } from './router.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.map', '.svg', '.txt']);

/** The page may only load what it was built with and talk to this server. */
const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

interface CachedFile {
  mtimeMs: number;
  size: number;
  body: Buffer;
  gzip?: Buffer;
  etag: string;
}

export interface StaticOptions {
  dir: string;
}

/**
 * GET/HEAD for files under `dir`; `/` is index.html. Vite puts content-hashed files under `/assets/`, so
 * those are cached for a year as immutable; everything else revalidates by ETag. Files are held in memory
 * after the first read (the bundle is small) and re-read when their mtime or size changes.
 */
export function staticFiles(opts: StaticOptions): RawHandler {
  // resolve() drops a trailing slash, which would break the containment check below.
  const root = resolve(opts.dir);
  const cache = new Map<string, CachedFile>();

  const load = async (path: string): Promise<CachedFile | undefined> => {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch {
      return undefined;
    }
    if (!info.isFile()) return undefined;
    const hit = cache.get(path);
    if (hit && hit.mtimeMs === info.mtimeMs && hit.size === info.size) return hit;
    const body = await readFile(path);
    const file: CachedFile = {
      mtimeMs: info.mtimeMs,
      size: info.size,
      body,
      etag: `"${createHash('sha1').update(body).digest('base64url').slice(0, 20)}"`,
    };
    if (COMPRESSIBLE.has(extname(path)) && body.length > 1024) file.gzip = gzipSync(body, { level: 9 });
    cache.set(path, file);
    return file;
  };

  return async ({ req, res, url }) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      throw new TrellisError('API_METHOD_NOT_ALLOWED', `${req.method} is not supported on ${url.pathname}`);
    }
    let rel: string;
    try {
      rel = decodeURIComponent(url.pathname);
    } catch {
      throw new TrellisError('API_BAD_REQUEST', `malformed path ${url.pathname}`);
    }
    if (rel === '/') rel = '/index.html';
    const path = normalize(join(root, rel));
    if (rel.includes('\0') || !path.startsWith(root + sep)) {
      throw new TrellisError('API_NOT_FOUND', `no file ${url.pathname}`);
    }
    const file = await load(path);
    if (!file) {
      if (rel === '/index.html') {
        res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
        res.end(`The dashboard is not built (no ${path}). Run \`npm run build\`.\n`);
        return;
      }
      sendError(req, res, new TrellisError('API_NOT_FOUND', `no file ${url.pathname}`));
      return;
    }
    const ext = extname(path);
    const gzip = file.gzip !== undefined && acceptsGzip(req);
    // Each encoding is its own representation, so each gets its own validator.
    const etag = gzip ? file.etag.replace(/"$/, '-gz"') : file.etag;
    const headers: Record<string, string> = {
      'content-type': TYPES[ext] ?? 'application/octet-stream',
      'cache-control': rel.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      etag,
      vary: 'accept-encoding',
      'x-content-type-options': 'nosniff',
    };
    if (ext === '.html') {
      headers['content-security-policy'] = CSP;
      headers['referrer-policy'] = 'no-referrer';
    }
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const body = gzip ? file.gzip! : file.body;
    if (gzip) headers['content-encoding'] = 'gzip';
    headers['content-length'] = String(body.length);
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
