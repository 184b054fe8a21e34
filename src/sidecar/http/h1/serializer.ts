// Writes HTTP/1.1 heads with framing the codec chooses itself, so what leaves the proxy is never ambiguous.

import { STATUS_CODES } from 'node:http';
import type { HeaderList } from '../headers.js';
import { AUTHORITY_CHAR, TARGET_CHAR, TCHAR } from '../tokens.js';

/** How a message body is delimited on the wire. */
export enum Framing {
  /** No body bytes at all (HEAD responses, 1xx/204/304, bodiless requests). */
  None,
  /** `content-length: n`. */
  Length,
  /** `transfer-encoding: chunked`. */
  Chunked,
  /** Response body delimited by closing the connection (HTTP/1.0 clients, unknown length). */
  Close,
}

/**
 * True for header names the serializer writes itself or never forwards: framing, connection management,
 * Host (written from the authority), TE (written only as `te: trailers`), and HTTP/2 pseudo-headers.
 */
export function isEgressSkipped(name: string): boolean {
  switch (name.length) {
    case 2:
      return name === 'te';
    case 4:
      return name === 'host';
    case 7:
      return name === 'upgrade';
    case 10:
      return name === 'connection' || name === 'keep-alive';
    case 14:
      return name === 'content-length';
    case 16:
      return name === 'proxy-connection';
    case 17:
      return name === 'transfer-encoding';
    default:
      return name.charCodeAt(0) === 0x3a;
  }
}

function appendHeaders(head: string, headers: HeaderList): string {
  const n = headers.size;
  for (let i = 0; i < n; i++) {
    const name = headers.nameAt(i);
    if (isEgressSkipped(name)) continue;
    head += `${name}: ${headers.valueAt(i)}\r\n`;
  }
  return head;
}

function framingLine(framing: Framing, length: number): string {
  if (framing === Framing.Length) return `content-length: ${length}\r\n`;
  if (framing === Framing.Chunked) return 'transfer-encoding: chunked\r\n';
  return '';
}

/** Fields of an outgoing request head. */
export interface RequestHeadInit {
  method: string;
  path: string;
  authority: string;
  headers: HeaderList;
  framing: Framing;
  length: number;
  /** Ask the server to keep the connection (default) or to close it after this exchange. */
  close: boolean;
  /** Protocol to ask for with `Connection: upgrade` (websocket), or undefined. */
  upgrade: string | undefined;
  /** Forward `te: trailers` (gRPC over HTTP/1.1 needs it end to end). */
  teTrailers: boolean;
}

function allIn(table: Uint8Array, text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff || table[c] !== 1) return false;
  }
  return true;
}

/**
 * Why a request line built from these fields would be unsafe to write, or undefined. Filters rewrite paths and
 * authorities; a space, CR or LF there would let one request become two on a lenient upstream.
 */
export function requestLineProblem(method: string, path: string, authority: string): string | undefined {
  if (method.length === 0 || !allIn(TCHAR, method))
    return `method ${JSON.stringify(method.slice(0, 32))} is not a token`;
  if (path.length === 0 || !allIn(TARGET_CHAR, path)) {
    return `path ${JSON.stringify(path.slice(0, 64))} is empty or holds spaces, controls or non-ASCII characters`;
  }
  if (!allIn(AUTHORITY_CHAR, authority))
    return `authority ${JSON.stringify(authority.slice(0, 64))} holds invalid characters`;
  return undefined;
}

/** The request line and headers, ending with the blank line. Check `requestLineProblem` first. */
export function serializeRequestHead(init: RequestHeadInit): string {
  let head = `${init.method} ${init.path} HTTP/1.1\r\nhost: ${init.authority}\r\n`;
  head = appendHeaders(head, init.headers);
  head += framingLine(init.framing, init.length);
  if (init.teTrailers) head += 'te: trailers\r\n';
  if (init.upgrade !== undefined) head += `connection: upgrade\r\nupgrade: ${init.upgrade}\r\n\r\n`;
  else if (init.close) head += 'connection: close\r\n\r\n';
  else head += '\r\n';
  return head;
}

/** Fields of an outgoing response head. */
export interface ResponseHeadInit {
  status: number;
  headers: HeaderList;
  framing: Framing;
  length: number;
  /** Write `connection: close`. */
  close: boolean;
  /** Write `connection: keep-alive` (an HTTP/1.0 client that asked for it). */
  keepAliveHeader: boolean;
  /** On a 101: the protocol switched to. */
  upgrade: string | undefined;
  /**
   * A HEAD or 304 response has no body, but its content-length still describes the representation: pass
   * the received value through.
   */
  passContentLength: boolean;
}

const STATUS_LINES: string[] = [];
for (const [code, text] of Object.entries(STATUS_CODES)) {
  STATUS_LINES[Number(code)] = `HTTP/1.1 ${code} ${text}\r\n`;
}

function statusLine(status: number): string {
  return STATUS_LINES[status] ?? `HTTP/1.1 ${status} Unknown\r\n`;
}

/** The status line and headers, ending with the blank line. */
export function serializeResponseHead(init: ResponseHeadInit): string {
  let head = appendHeaders(statusLine(init.status), init.headers);
  if (init.passContentLength) {
    const length = init.headers.get('content-length');
    if (length !== undefined) head += `content-length: ${length}\r\n`;
  }
  head += framingLine(init.framing, init.length);
  if (init.upgrade !== undefined) return `${head}connection: upgrade\r\nupgrade: ${init.upgrade}\r\n\r\n`;
  if (init.close) return `${head}connection: close\r\n\r\n`;
  if (init.keepAliveHeader) return `${head}connection: keep-alive\r\n\r\n`;
  return `${head}\r\n`;
}

/** The head of one chunk of a chunked body. */
export function chunkHeader(size: number): string {
  return `${size.toString(16)}\r\n`;
}

/** The last chunk and the trailer section. */
export function lastChunk(trailers: HeaderList | undefined): string {
  if (trailers === undefined || trailers.size === 0) return '0\r\n\r\n';
  let out = '0\r\n';
  const n = trailers.size;
  for (let i = 0; i < n; i++) {
    const name = trailers.nameAt(i);
    if (isEgressSkipped(name)) continue;
    out += `${name}: ${trailers.valueAt(i)}\r\n`;
  }
  return `${out}\r\n`;
}
