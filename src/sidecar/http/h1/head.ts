// Parses one complete HTTP/1.1 head (request or status line plus header fields) strictly, in one pass.

import '../buffer-ext.js';
import { HeaderList } from '../headers.js';
import { connectionOptionNames } from '../hop-by-hop.js';
import { AUTHORITY_CHAR, FIELD_VALUE, METHODS, REASON_CHAR, TARGET_CHAR, TCHAR } from '../tokens.js';
import { malformed, tooLarge } from './errors.js';
import { headerName } from './names.js';

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const COLON = 58;

/** Limits a head must respect; the defaults are Envoy's (`max_request_headers_kb: 60`, `max_headers_count: 100`). */
export interface HeadLimits {
  /** Bytes in the whole head, start line included. Over it: 431. */
  maxHeadBytes: number;
  /** Header fields in one head (or one trailer block). Over it: 431. */
  maxHeaderCount: number;
}

export const DEFAULT_HEAD_LIMITS: HeadLimits = Object.freeze({
  maxHeadBytes: 60 * 1024,
  maxHeaderCount: 100,
});

/** Framing and connection facts a head carries, besides the end-to-end header list. */
class HeadFacts {
  headers = new HeaderList();
  contentLength = -1;
  chunked = false;
  connectionClose = false;
  connectionKeepAlive = false;
  connectionUpgrade = false;
  connectionOptions: string[] | undefined = undefined;
  upgrade: string | undefined = undefined;
  host: string | undefined = undefined;
  expectContinue = false;
  sawTransferEncoding = false;
}

/** A request head as parsed, before it becomes a protocol-neutral ProxyRequest. */
export interface ParsedRequestHead {
  method: string;
  /** The request-target exactly as received. */
  target: string;
  /** Authority from an absolute-form target, else the Host header, else ''. */
  authority: string;
  /** Origin-form path (`/a?b`), `*` for OPTIONS, '' for CONNECT. */
  path: string;
  /** `http` or `https` when the target was absolute-form. */
  targetScheme: string | undefined;
  absoluteForm: boolean;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minorVersion: number;
  headers: HeaderList;
  /** Declared Content-Length, or -1. */
  contentLength: number;
  chunked: boolean;
  keepAlive: boolean;
  /** The protocol asked for with `Connection: upgrade` + `Upgrade: x`, or undefined. */
  upgrade: string | undefined;
  expectContinue: boolean;
}

/** A response head as parsed. */
export interface ParsedResponseHead {
  status: number;
  reason: string;
  minorVersion: number;
  headers: HeaderList;
  contentLength: number;
  chunked: boolean;
  keepAlive: boolean;
  upgrade: string | undefined;
}

const METHOD_SET: ReadonlySet<string> = new Set(METHODS);

function matchMethod(b: Buffer, start: number, end: number): string {
  const len = end - start;
  const c = b[start];
  // The common methods without building a string first.
  if (len === 3 && c === 0x47 && b[start + 1] === 0x45 && b[start + 2] === 0x54) return 'GET';
  if (len === 4 && c === 0x50 && b[start + 1] === 0x4f && b[start + 2] === 0x53 && b[start + 3] === 0x54) {
    return 'POST';
  }
  const text = b.latin1Slice(start, end);
  if (!METHOD_SET.has(text)) {
    throw malformed(`invalid request line: unknown method ${JSON.stringify(text.slice(0, 32))}`);
  }
  return METHODS[METHODS.indexOf(text)]!;
}

/** Parses `HTTP/1.x` at `p`; returns the minor version. */
function parseVersion(b: Buffer, p: number, what: string): number {
  if (
    b[p] !== 0x48 ||
    b[p + 1] !== 0x54 ||
    b[p + 2] !== 0x54 ||
    b[p + 3] !== 0x50 ||
    b[p + 4] !== 0x2f ||
    b[p + 5] !== 0x31 ||
    b[p + 6] !== 0x2e ||
    (b[p + 7] !== 0x31 && b[p + 7] !== 0x30)
  ) {
    throw malformed(`invalid ${what}: expected HTTP/1.1 or HTTP/1.0`);
  }
  return b[p + 7] === 0x31 ? 1 : 0;
}

/**
 * Parses the header fields from `p` up to the empty line that ends the block at `end` (exclusive, after its
 * CRLF). Lines are known to end in CRLF (the scanner refused bare LF). Returns the number of fields.
 */
function parseFields(
  b: Buffer,
  p: number,
  end: number,
  facts: HeadFacts,
  limits: HeadLimits,
  trailers: boolean,
) {
  const headers = facts.headers;
  let count = 0;
  const stop = end - 2;
  while (p < stop) {
    const lineStart = p;
    const first = b[p]!;
    if (first === SP || first === HTAB)
      throw malformed('invalid header block: obs-fold (a line starting with whitespace)');
    while (TCHAR[b[p]!] === 1) p++;
    if (b[p] !== COLON) {
      if (b[p] === SP || b[p] === HTAB)
        throw malformed('invalid header: whitespace between field name and colon');
      throw malformed(
        `invalid header name: byte 0x${b[p]!.toString(16).padStart(2, '0')} is not a token character`,
      );
    }
    if (p === lineStart) throw malformed('invalid header: empty field name');
    const name = headerName(b, lineStart, p);
    p++;
    while (b[p] === SP || b[p] === HTAB) p++;
    const valueStart = p;
    while (FIELD_VALUE[b[p]!] === 1) p++;
    if (b[p] !== CR || b[p + 1] !== LF) {
      throw malformed(
        `invalid value for header "${name}": byte 0x${b[p]!.toString(16).padStart(2, '0')} is a control character`,
      );
    }
    let valueEnd = p;
    while (valueEnd > valueStart && (b[valueEnd - 1] === SP || b[valueEnd - 1] === HTAB)) valueEnd--;
    p += 2;
    if (++count > limits.maxHeaderCount) {
      throw tooLarge(
        `${trailers ? 'trailer' : 'header'} block has more than ${limits.maxHeaderCount} fields`,
      );
    }
    const value = valueStart === valueEnd ? '' : b.latin1Slice(valueStart, valueEnd);
    if (trailers) {
      acceptTrailer(headers, name, value);
    } else {
      acceptField(facts, name, value);
    }
  }
  return count;
}

/** Trailers must not carry framing, routing or connection fields (RFC 9110 §6.5.1): those are dropped. */
const FORBIDDEN_TRAILERS: ReadonlySet<string> = new Set([
  'content-length',
  'transfer-encoding',
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'upgrade',
  'te',
  'trailer',
  'content-type',
  'content-encoding',
  'content-range',
  'expect',
  'authorization',
  'cookie',
  'set-cookie',
]);

function acceptTrailer(headers: HeaderList, name: string, value: string): void {
  // Framing in trailers means a sender confused about where the message ends (llhttp refuses it too).
  if (name === 'content-length' || name === 'transfer-encoding') {
    throw malformed(`invalid trailers: ${name} in the trailer section`);
  }
  if (!FORBIDDEN_TRAILERS.has(name)) headers.appendTrusted(name, value);
}

function acceptField(facts: HeadFacts, name: string, value: string): void {
  switch (name) {
    case 'content-length': {
      if (facts.contentLength !== -1) throw malformed('invalid framing: more than one Content-Length header');
      facts.contentLength = parseContentLength(value);
      facts.headers.appendTrusted(name, value);
      return;
    }
    case 'transfer-encoding': {
      if (facts.sawTransferEncoding)
        throw malformed('invalid framing: more than one Transfer-Encoding header');
      facts.sawTransferEncoding = true;
      if (value.length !== 7 || value.toLowerCase() !== 'chunked') {
        throw malformed(
          `invalid framing: Transfer-Encoding ${JSON.stringify(value.slice(0, 64))} (only exactly "chunked" is accepted)`,
        );
      }
      facts.chunked = true;
      return;
    }
    case 'host': {
      if (facts.host !== undefined) throw malformed('invalid request: more than one Host header');
      facts.host = value;
      return;
    }
    case 'connection': {
      // The two common values without splitting and trimming.
      const simple = value.length <= 10 ? value.toLowerCase() : '';
      if (simple === 'keep-alive') {
        facts.connectionKeepAlive = true;
        return;
      }
      if (simple === 'close') {
        facts.connectionClose = true;
        return;
      }
      for (const part of value.split(',')) {
        const token = part.trim().toLowerCase();
        if (token === 'close') facts.connectionClose = true;
        else if (token === 'keep-alive') facts.connectionKeepAlive = true;
        else if (token === 'upgrade') facts.connectionUpgrade = true;
      }
      const listed = connectionOptionNames(value);
      if (listed.length > 0) facts.connectionOptions = [...(facts.connectionOptions ?? []), ...listed];
      return;
    }
    case 'upgrade':
      facts.upgrade = facts.upgrade === undefined ? value : `${facts.upgrade}, ${value}`;
      return;
    case 'keep-alive':
    case 'proxy-connection':
      return;
    case 'te':
      if (value.toLowerCase() === 'trailers') facts.headers.appendTrusted(name, 'trailers');
      return;
    case 'expect':
      if (value.toLowerCase() === '100-continue') {
        facts.expectContinue = true;
        return;
      }
      facts.headers.appendTrusted(name, value);
      return;
    default:
      facts.headers.appendTrusted(name, value);
  }
}

function parseContentLength(value: string): number {
  if (value.length === 0 || value.length > 15) {
    throw malformed(`invalid framing: Content-Length ${JSON.stringify(value.slice(0, 32))}`);
  }
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const d = value.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9)
      throw malformed(`invalid framing: Content-Length ${JSON.stringify(value.slice(0, 32))}`);
    n = n * 10 + d;
  }
  return n;
}

/** Drops the header names a Connection header listed (they belong to the hop), after all fields are known. */
function dropConnectionOptions(facts: HeadFacts): void {
  if (facts.connectionOptions === undefined) return;
  for (const name of facts.connectionOptions) {
    // Framing is already decided; an informational content-length or te: trailers may go with the hop.
    facts.headers.remove(name);
  }
}

/** A Host value or an absolute-form authority: reg-name / IP-literal with optional port, no userinfo. */
function checkAuthority(value: string, what: string): void {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 0xff || AUTHORITY_CHAR[c] !== 1) {
      throw malformed(
        `invalid ${what} ${JSON.stringify(value.slice(0, 64))}: character ${JSON.stringify(value[i])}`,
      );
    }
  }
}

/** Parses a complete request head in b[start, end) (end is just after the blank line's LF). */
export function parseRequestHead(
  b: Buffer,
  start: number,
  end: number,
  limits: HeadLimits,
): ParsedRequestHead {
  let p = start;
  while (TCHAR[b[p]!] === 1) p++;
  if (b[p] !== SP || p === start)
    throw malformed('invalid request line: expected "METHOD SP target SP HTTP/1.1"');
  const method = matchMethod(b, start, p);
  const targetStart = ++p;
  while (TARGET_CHAR[b[p]!] === 1) p++;
  if (b[p] !== SP || p === targetStart) {
    throw malformed('invalid request line: the target is empty or holds a control, space or non-ASCII byte');
  }
  const target = b.latin1Slice(targetStart, p);
  const minorVersion = parseVersion(b, p + 1, 'request line');
  p += 9;
  if (b[p] !== CR || b[p + 1] !== LF) throw malformed('invalid request line: junk after the HTTP version');
  p += 2;

  const facts = new HeadFacts();
  parseFields(b, p, end, facts, limits, false);

  if (facts.chunked && facts.contentLength !== -1) {
    throw malformed(
      'invalid framing: Content-Length together with Transfer-Encoding (request smuggling vector)',
    );
  }
  if (facts.chunked && minorVersion === 0)
    throw malformed('invalid framing: Transfer-Encoding in an HTTP/1.0 request');
  if (minorVersion === 1 && facts.host === undefined)
    throw malformed('invalid request: HTTP/1.1 without a Host header');
  if (facts.host !== undefined) checkAuthority(facts.host, 'Host header');
  dropConnectionOptions(facts);

  let authority = facts.host ?? '';
  let path = target;
  let targetScheme: string | undefined;
  let absoluteForm = false;
  const t0 = target.charCodeAt(0);
  if (method === 'CONNECT') {
    // RFC 9110 §9.3.6: CONNECT has no content; bytes after its head belong to the tunnel.
    if (facts.chunked || facts.contentLength !== -1) throw malformed('invalid request: CONNECT with a body');
    checkAuthority(target, 'CONNECT target');
    if (target.indexOf(':') <= 0)
      throw malformed(`invalid CONNECT target ${JSON.stringify(target.slice(0, 64))}: expected host:port`);
    authority = target;
    path = '';
  } else if (t0 === 0x2f) {
    // origin-form, the common case
  } else if (t0 === 0x2a && target.length === 1) {
    if (method !== 'OPTIONS') throw malformed('invalid request line: asterisk-form target outside OPTIONS');
  } else {
    const schemeEnd = target.indexOf('://');
    const scheme = schemeEnd > 0 ? target.slice(0, schemeEnd).toLowerCase() : '';
    if (scheme !== 'http' && scheme !== 'https') {
      throw malformed(
        `invalid request target ${JSON.stringify(target.slice(0, 64))}: expected /path or http://host/path`,
      );
    }
    if (target.includes('#')) {
      throw malformed(
        `invalid request target ${JSON.stringify(target.slice(0, 64))}: a fragment in an absolute URI`,
      );
    }
    const rest = schemeEnd + 3;
    let slash = rest;
    while (slash < target.length) {
      const c = target.charCodeAt(slash);
      if (c === 0x2f || c === 0x3f || c === 0x23) break;
      slash++;
    }
    authority = target.slice(rest, slash);
    if (authority === '')
      throw malformed(`invalid request target ${JSON.stringify(target.slice(0, 64))}: no host`);
    checkAuthority(authority, 'absolute-form authority');
    path =
      slash === target.length
        ? '/'
        : target.charCodeAt(slash) === 0x2f
          ? target.slice(slash)
          : `/${target.slice(slash)}`;
    targetScheme = scheme;
    absoluteForm = true;
  }

  const keepAlive =
    minorVersion === 1 ? !facts.connectionClose : facts.connectionKeepAlive && !facts.connectionClose;
  return {
    method,
    target,
    authority,
    path,
    targetScheme,
    absoluteForm,
    minorVersion,
    headers: facts.headers,
    contentLength: facts.contentLength,
    chunked: facts.chunked,
    keepAlive,
    upgrade: facts.connectionUpgrade && method !== 'CONNECT' ? facts.upgrade : undefined,
    expectContinue: facts.expectContinue && minorVersion === 1,
  };
}

/** Parses a complete response head in b[start, end). */
export function parseResponseHead(
  b: Buffer,
  start: number,
  end: number,
  limits: HeadLimits,
): ParsedResponseHead {
  const minorVersion = parseVersion(b, start, 'status line');
  let p = start + 8;
  if (b[p] !== SP) throw malformed('invalid status line: expected "HTTP/1.1 SP status"');
  p++;
  const d0 = b[p]! - 0x30;
  const d1 = b[p + 1]! - 0x30;
  const d2 = b[p + 2]! - 0x30;
  if (!(d0 >= 1 && d0 <= 5 && d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9)) {
    throw malformed('invalid status line: status code must be three digits from 100 to 599');
  }
  const status = d0 * 100 + d1 * 10 + d2;
  p += 3;
  let reason = '';
  if (b[p] === SP) {
    const reasonStart = ++p;
    while (REASON_CHAR[b[p]!] === 1) p++;
    reason = b.latin1Slice(reasonStart, p);
  }
  if (b[p] !== CR || b[p + 1] !== LF)
    throw malformed('invalid status line: control character in the reason phrase');
  p += 2;

  const facts = new HeadFacts();
  parseFields(b, p, end, facts, limits, false);
  if (facts.chunked && facts.contentLength !== -1) {
    throw malformed('invalid framing: response with both Content-Length and Transfer-Encoding');
  }
  dropConnectionOptions(facts);
  const keepAlive =
    minorVersion === 1 ? !facts.connectionClose : facts.connectionKeepAlive && !facts.connectionClose;
  return {
    status,
    reason,
    minorVersion,
    headers: facts.headers,
    contentLength: facts.contentLength,
    chunked: facts.chunked,
    keepAlive,
    upgrade: status === 101 ? (facts.upgrade ?? '') : undefined,
  };
}

/** Parses a trailer block b[start, end) (after the last chunk) into a header list. */
export function parseTrailers(
  b: Buffer,
  start: number,
  end: number,
  limits: HeadLimits,
): HeaderList | undefined {
  if (end - start === 2) return undefined;
  const facts = new HeadFacts();
  parseFields(b, start, end, facts, limits, true);
  return facts.headers.size === 0 ? undefined : facts.headers;
}
