// Converts between node:http2's header shapes and the protocol-neutral HeaderList, both directions.

import type { OutgoingHttpHeaders } from 'node:http2';
import { HeaderList } from '../headers.js';
import { isHopByHop } from '../hop-by-hop.js';

/** Pseudo-headers and fields of a received HTTP/2 request. */
export interface H2RequestFields {
  method: string;
  path: string;
  scheme: string;
  authority: string;
  headers: HeaderList;
  /** Parsed content-length, when the peer sent a valid one. */
  contentLength: number | undefined;
  /** Why the head is unusable, if it is. */
  problem: string | undefined;
}

/**
 * Reads a request from node:http2's raw header array (`[name, value, ...]`, names already lower-case and
 * validated by nghttp2). Cookie crumbs are joined with "; " (RFC 9113 §8.2.3) so an HTTP/1.1 upstream gets
 * one Cookie header; connection-specific fields cannot occur (nghttp2 refuses them).
 */
export function requestFields(raw: readonly string[], maxHeaderCount: number): H2RequestFields {
  const headers = new HeaderList();
  let method = '';
  let path = '';
  let scheme = '';
  let authority: string | undefined;
  let host: string | undefined;
  let cookie: string | undefined;
  let contentLength: number | undefined;
  let problem: string | undefined;
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    if (name.charCodeAt(0) === 0x3a) {
      if (name === ':method') method = value;
      else if (name === ':path') path = value;
      else if (name === ':scheme') scheme = value;
      else if (name === ':authority') authority = value;
      continue;
    }
    if (++count > maxHeaderCount) problem = `more than ${maxHeaderCount} header fields`;
    if (name === 'host') {
      host = value;
    } else if (name === 'cookie') {
      cookie = cookie === undefined ? value : `${cookie}; ${value}`;
    } else if (name === 'te') {
      if (value === 'trailers') headers.appendTrusted(name, value);
    } else {
      if (name === 'content-length') {
        const n = /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
        if (Number.isNaN(n) || (contentLength !== undefined && contentLength !== n)) {
          problem = `invalid content-length ${JSON.stringify(value)}`;
        } else {
          contentLength = n;
        }
      }
      headers.appendTrusted(name, value);
    }
  }
  if (cookie !== undefined) headers.appendTrusted('cookie', cookie);
  return { method, path, scheme, authority: authority ?? host ?? '', headers, contentLength, problem };
}

/** Reads response (or trailer) fields from a raw header array; `:status` is returned apart. */
export function responseFields(raw: readonly string[]): { status: number; headers: HeaderList } {
  const headers = new HeaderList();
  let status = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.charCodeAt(0) === 0x3a) {
      if (name === ':status') status = Number(raw[i + 1]);
      continue;
    }
    headers.appendTrusted(name, raw[i + 1]!);
  }
  return { status, headers };
}

/** Fields HTTP/2 forbids or that the codec writes itself. */
function skipOnH2(name: string, value: string): boolean {
  if (name.charCodeAt(0) === 0x3a) return true;
  if (name === 'host' || name === 'content-length') return true;
  return isHopByHop(name, value);
}

/**
 * Adds a HeaderList to an outgoing node:http2 header object: repeated names become arrays, hop-by-hop and
 * framing fields are left out (node:http2 would throw on them), content-length is the caller's to set.
 */
export function addFields(out: OutgoingHttpHeaders, list: HeaderList): OutgoingHttpHeaders {
  const n = list.size;
  for (let i = 0; i < n; i++) {
    const name = list.nameAt(i);
    const value = list.valueAt(i);
    if (skipOnH2(name, value)) continue;
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [String(prev), value];
  }
  return out;
}
