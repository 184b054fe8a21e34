// Envoy's http_inspector: is this plaintext connection HTTP/1.x (by its request line) or h2c (by the preface)?

export type HttpDetection = 'incomplete' | 'http/1.0' | 'http/1.1' | 'h2c' | 'not-http';

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** Methods Envoy's inspector knows (llhttp's list); a request line must start with one and a space. */
const METHODS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
  'PROPFIND',
  'PROPPATCH',
  'MKCOL',
  'COPY',
  'MOVE',
  'LOCK',
  'UNLOCK',
  'SEARCH',
  'REPORT',
  'MKACTIVITY',
  'CHECKOUT',
  'MERGE',
  'M-SEARCH',
  'NOTIFY',
  'SUBSCRIBE',
  'UNSUBSCRIBE',
  'PURGE',
  'MKCALENDAR',
  'LINK',
  'UNLINK',
  'SOURCE',
  'QUERY',
];

/** Envoy reads up to this much of a request line before deciding it is not HTTP. */
export const MAX_REQUEST_LINE_BYTES = 64 * 1024;

/**
 * Decides from the bytes so far. A connection whose first bytes cannot start a request line (a server-first
 * protocol's client, TLS, binary) is `not-http` as soon as that is certain, so detection never waits for
 * data that will not come.
 */
export function detectHttp(data: Buffer): HttpDetection {
  if (data.length === 0) return 'incomplete';
  const n = Math.min(data.length, H2_PREFACE.length);
  if (data.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) {
    if (data.length >= H2_PREFACE.length) return 'h2c';
    // Still a prefix of the preface; a method like PROPFIND diverges from it on a later byte.
    return 'incomplete';
  }
  const space = data.indexOf(0x20);
  const methodEnd = space === -1 ? Math.min(data.length, 16) : space;
  const method = data.toString('latin1', 0, methodEnd);
  if (space === -1) {
    if (data.length > 16 || !METHODS.some((m) => m.startsWith(method))) return 'not-http';
    return 'incomplete';
  }
  if (!METHODS.includes(method)) return 'not-http';
  const eol = data.indexOf('\r\n', space + 1, 'latin1');
  if (eol === -1) {
    if (data.length >= MAX_REQUEST_LINE_BYTES) return 'not-http';
    // A control byte in the target means this is not a request line, whatever follows.
    for (let i = space + 1; i < data.length; i++) {
      const c = data[i]!;
      if ((c < 0x20 && c !== 0x0d) || c === 0x7f) return 'not-http';
    }
    return 'incomplete';
  }
  const line = data.toString('latin1', space + 1, eol);
  const lastSpace = line.lastIndexOf(' ');
  if (lastSpace <= 0) return 'not-http';
  const version = line.slice(lastSpace + 1);
  if (version === 'HTTP/1.1') return 'http/1.1';
  if (version === 'HTTP/1.0') return 'http/1.0';
  return 'not-http';
}
