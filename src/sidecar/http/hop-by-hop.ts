// Hop-by-hop headers (RFC 9110 §7.6.1): they describe one connection and are never forwarded as they came.

import type { HeaderList } from './headers.js';

/** Headers that always belong to one hop. `te` is one too, except for the value `trailers` (gRPC needs it). */
const ALWAYS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
]);

/**
 * True when a header with this (lower-case) name and value is hop-by-hop on its own, without looking at
 * Connection. `te: trailers` is end-to-end: it is how a client says it accepts trailers.
 */
export function isHopByHop(name: string, value?: string): boolean {
  if (!ALWAYS.has(name)) return false;
  if (name === 'te' && value !== undefined) return !isTeTrailers(value);
  return true;
}

/** True for a TE value that says only "trailers" (case-insensitive, surrounding whitespace ignored). */
export function isTeTrailers(value: string): boolean {
  return value.trim().toLowerCase() === 'trailers';
}

/** The header names a Connection value lists (lower-case), without `close`, `keep-alive` and `upgrade`. */
export function connectionOptionNames(connection: string): string[] {
  const out: string[] = [];
  for (const part of connection.split(',')) {
    const token = part.trim().toLowerCase();
    if (token !== '' && token !== 'close' && token !== 'keep-alive' && token !== 'upgrade') out.push(token);
  }
  return out;
}

/**
 * Removes hop-by-hop headers from a list in place: the fixed set, `te` unless it is `trailers`, and every name
 * that a Connection header lists. Codecs call this on what they parse; it is exported for lists that come from
 * elsewhere (a node:http2 stream, a filter that copied raw headers).
 */
export function removeHopByHop(headers: HeaderList): void {
  const listed: string[] = [];
  for (const value of headers.getAll('connection')) listed.push(...connectionOptionNames(value));
  for (const name of listed) headers.remove(name);
  const te = headers.getAll('te');
  headers.remove('connection');
  headers.remove('keep-alive');
  headers.remove('proxy-connection');
  headers.remove('transfer-encoding');
  headers.remove('upgrade');
  headers.remove('te');
  if (te.length > 0 && te.every(isTeTrailers) && !listed.includes('te')) headers.add('te', 'trailers');
}
