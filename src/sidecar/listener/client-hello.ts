// Reads SNI and ALPN out of the first bytes of a connection (a TLS ClientHello) without a TLS library.

/** Envoy's tls_inspector reads at most this much before giving up on a ClientHello. */
export const MAX_CLIENT_HELLO_BYTES = 64 * 1024;

export type ClientHelloResult =
  | { kind: 'incomplete' }
  | { kind: 'not-tls' }
  | { kind: 'tls'; serverName?: string; alpn: string[] };

const HANDSHAKE = 0x16;
const CLIENT_HELLO = 0x01;
const EXT_SERVER_NAME = 0x0000;
const EXT_ALPN = 0x0010;

/**
 * Parses what has arrived so far. `incomplete` means: read more. The handshake message may span several TLS
 * records (large hellos with post-quantum key shares), so fragments are joined before parsing. Anything that
 * does not look like a TLS 1.0–1.3 handshake record is `not-tls`; a malformed hello is `not-tls` too, and the
 * connection then goes on as raw bytes (the TLS server, if any, will refuse it).
 */
export function parseClientHello(data: Buffer): ClientHelloResult {
  if (data.length === 0) return { kind: 'incomplete' };
  if (data[0] !== HANDSHAKE) return { kind: 'not-tls' };
  if (data.length >= 2 && data[1] !== 3) return { kind: 'not-tls' };
  if (data.length >= 3 && data[2]! > 4) return { kind: 'not-tls' };
  // Join the handshake fragments of consecutive handshake records.
  const fragments: Buffer[] = [];
  let offset = 0;
  let have = 0;
  let need = -1;
  while (need < 0 || have < need) {
    if (data.length < offset + 5) return incompleteOr(data.length);
    if (data[offset] !== HANDSHAKE || data[offset + 1] !== 3) return { kind: 'not-tls' };
    const len = data.readUInt16BE(offset + 3);
    if (len === 0) return { kind: 'not-tls' };
    if (data.length < offset + 5 + len) return incompleteOr(data.length);
    fragments.push(data.subarray(offset + 5, offset + 5 + len));
    have += len;
    offset += 5 + len;
    if (need < 0) {
      const first = fragments[0]!;
      if (first.length < 4 && have < 4) continue;
      const head = Buffer.concat(fragments);
      if (head[0] !== CLIENT_HELLO) return { kind: 'not-tls' };
      need = 4 + head.readUIntBE(1, 3);
      if (need > MAX_CLIENT_HELLO_BYTES) return { kind: 'not-tls' };
    }
  }
  const msg = Buffer.concat(fragments).subarray(4, need);
  return parseHelloBody(msg) ?? { kind: 'not-tls' };
}

function incompleteOr(length: number): ClientHelloResult {
  return length >= MAX_CLIENT_HELLO_BYTES ? { kind: 'not-tls' } : { kind: 'incomplete' };
}

/** client_version, random, session_id, cipher_suites, compression_methods, then extensions. */
function parseHelloBody(b: Buffer): ClientHelloResult | undefined {
  let p = 2 + 32;
  if (b.length < p + 1) return undefined;
  p += 1 + b[p]!;
  if (b.length < p + 2) return undefined;
  p += 2 + b.readUInt16BE(p);
  if (b.length < p + 1) return undefined;
  p += 1 + b[p]!;
  const out: { kind: 'tls'; serverName?: string; alpn: string[] } = { kind: 'tls', alpn: [] };
  if (b.length < p + 2) return p <= b.length ? out : undefined; // no extensions at all (SSLv3-style hello)
  const end = p + 2 + b.readUInt16BE(p);
  if (end > b.length) return undefined;
  p += 2;
  while (p + 4 <= end) {
    const type = b.readUInt16BE(p);
    const len = b.readUInt16BE(p + 2);
    const body = b.subarray(p + 4, p + 4 + len);
    if (body.length !== len) return undefined;
    if (type === EXT_SERVER_NAME) {
      const name = serverName(body);
      if (name !== undefined) out.serverName = name;
    } else if (type === EXT_ALPN) {
      out.alpn = alpnList(body);
    }
    p += 4 + len;
  }
  return out;
}

function serverName(body: Buffer): string | undefined {
  if (body.length < 2) return undefined;
  const end = Math.min(body.length, 2 + body.readUInt16BE(0));
  let p = 2;
  while (p + 3 <= end) {
    const type = body[p]!;
    const len = body.readUInt16BE(p + 1);
    if (p + 3 + len > end) return undefined;
    if (type === 0) return body.toString('latin1', p + 3, p + 3 + len).toLowerCase();
    p += 3 + len;
  }
  return undefined;
}

function alpnList(body: Buffer): string[] {
  const out: string[] = [];
  if (body.length < 2) return out;
  const end = Math.min(body.length, 2 + body.readUInt16BE(0));
  let p = 2;
  while (p < end) {
    const len = body[p]!;
    if (len === 0 || p + 1 + len > end) break;
    out.push(body.toString('latin1', p + 1, p + 1 + len));
    p += 1 + len;
  }
  return out;
}
