// Route hash policies → the hash a RING_HASH/MAGLEV cluster picks its host by (Envoy's HashPolicyImpl).

import type { HashPolicy } from '../../../config/model.js';
import { combineHashes, xxHash64 } from '../../../upstream/lb/xxhash64.js';
import type { ProxyRequest } from '../../message.js';
import { requestHeaderValue } from './request-headers.js';

/** A cookie Envoy sets when a cookie policy with a TTL found none, so the client sticks from then on. */
export interface GeneratedCookie {
  name: string;
  value: string;
  ttlMs: number;
  path: string | undefined;
}

export interface HashResult {
  hash: bigint | undefined;
  setCookie: GeneratedCookie | undefined;
}

function cookieValue(req: ProxyRequest, name: string): string | undefined {
  for (const header of req.headers.getAll('cookie')) {
    for (const part of header.split(';')) {
      const eq = part.indexOf('=');
      if (eq < 0) continue;
      if (part.slice(0, eq).trim() === name)
        return part
          .slice(eq + 1)
          .trim()
          .replace(/^"(.*)"$/, '$1');
    }
  }
  return undefined;
}

function queryValue(path: string, name: string): string | undefined {
  const q = path.indexOf('?');
  if (q < 0) return undefined;
  return new URLSearchParams(path.slice(q + 1)).get(name) ?? undefined;
}

/**
 * Each policy may yield a hash (header: every value joined as one; cookie; source IP; query parameter); the
 * hashes combine by rotate-and-xor, and a `terminal` policy that produced one stops the walk.
 */
export function requestHash(
  policies: readonly HashPolicy[],
  req: ProxyRequest,
  clientAddress: string,
): HashResult {
  const hashes: bigint[] = [];
  let setCookie: GeneratedCookie | undefined;
  for (const p of policies) {
    let h: bigint | undefined;
    switch (p.kind) {
      case 'header': {
        const v = requestHeaderValue(req, p.name);
        if (v !== undefined) h = xxHash64(v);
        break;
      }
      case 'cookie': {
        const v = cookieValue(req, p.name);
        if (v !== undefined) h = xxHash64(v);
        else if (p.cookieTtlMs !== undefined) {
          // Envoy derives the new cookie from the downstream address, so retries of this client agree.
          const value = xxHash64(`${clientAddress}${p.name}`).toString(16).padStart(16, '0');
          setCookie = { name: p.name, value, ttlMs: p.cookieTtlMs, path: p.cookiePath };
          h = xxHash64(value);
        }
        break;
      }
      case 'sourceIp':
        if (clientAddress) h = xxHash64(clientAddress);
        break;
      case 'queryParameter': {
        const v = queryValue(req.path, p.name);
        if (v !== undefined) h = xxHash64(v);
        break;
      }
    }
    if (h !== undefined) {
      hashes.push(h);
      if (p.terminal) break;
    }
  }
  return { hash: combineHashes(hashes), setCookie };
}

/** The Set-Cookie value for a generated cookie (Envoy: `name="value"; Max-Age=...; Path=...; HttpOnly`). */
export function setCookieValue(c: GeneratedCookie): string {
  const path = c.path ? `; Path=${c.path}` : '';
  return `${c.name}="${c.value}"; Max-Age=${Math.floor(c.ttlMs / 1000)}${path}; HttpOnly`;
}
