// The protocol-neutral exchange model: what filters and the router see, whatever HTTP version carried it.

import type { Duplex } from 'node:stream';
import { TrellisError } from '../../shared/errors.js';
import { type Body, bufferBody, EMPTY_BODY } from './body.js';
import type { CancelSignal } from './cancel.js';
import { HeaderList } from './headers.js';

/** The HTTP version a message arrived with (the upstream side chooses its own). */
export type HttpVersion = '1.0' | '1.1' | '2';

/**
 * A request head plus its body. `headers` never holds hop-by-hop fields (Connection and what it lists,
 * Keep-Alive, Proxy-Connection, TE other than `trailers`, Transfer-Encoding, Upgrade) nor Host/:authority or
 * other pseudo-headers: those live in the typed fields. A `content-length` entry may be present as
 * information; the outgoing framing always comes from `body.size`.
 */
export interface ProxyRequest {
  method: string;
  /** `http` or `https`: the scheme of the request URI (from the connection, or an absolute-form target). */
  scheme: string;
  /** Host header (HTTP/1.1) or :authority (HTTP/2); from the target for absolute-form and CONNECT. */
  authority: string;
  /** The request-target in origin-form as received (`/a/b?c`), `*` for OPTIONS *, '' for CONNECT. */
  path: string;
  version: HttpVersion;
  headers: HeaderList;
  body: Body;
  /**
   * True when the client sent absolute-form (`GET http://reviews:9080/x HTTP/1.1`): it is using the sidecar
   * as an explicit HTTP proxy. `authority` and `path` are already split out of the target.
   */
  absoluteForm: boolean;
  /**
   * The protocol the client asked to switch to (`Connection: upgrade` + `Upgrade: websocket`), or undefined.
   * Forward it upstream as is; a 101 response with a `tunnel` then splices the two connections.
   */
  upgrade: string | undefined;
}

/** A response head plus its body; trailers arrive at the end of the body (`BodySink.onEnd`). */
export interface ProxyResponse {
  status: number;
  headers: HeaderList;
  body: Body;
  /** On a 101: the protocol switched to (the upstream's Upgrade value). */
  upgrade?: string | undefined;
  /**
   * On a 101 (or a 2xx to CONNECT): the upstream byte stream after the response head, paused (pipe it, or
   * resume it after attaching 'data'). The server writes the head, then pipes the downstream connection and
   * this stream into each other until either side closes.
   */
  tunnel?: Duplex | undefined;
}

/** Facts about the downstream connection an exchange arrived on; one object per connection. */
export interface ConnectionInfo {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** True when the connection is TLS (the sidecar terminated it). */
  readonly tls: boolean;
  /** The negotiated ALPN protocol, if any. */
  readonly alpn: string | undefined;
  /** `http/1.1`, `h2` (over TLS) or `h2c`. */
  readonly protocol: 'http/1.1' | 'h2' | 'h2c';
  /** The socket itself, for what the model does not cover (peer certificate, original destination). */
  readonly socket: import('node:net').Socket;
}

/** Per-exchange context handed to the handler next to the request. */
export interface ExchangeContext {
  /**
   * Aborted when the downstream went away before the response was complete: the client closed or reset
   * the connection (HTTP/1.1), or reset the stream or the session (HTTP/2). The abort reason is a
   * TrellisError with code `DOWNSTREAM_DISCONNECTED`. Pass it to the upstream request so the upstream
   * exchange is abandoned too. It has AbortSignal's shape (`aborted`, `reason`, `addEventListener('abort')`)
   * without its cost; `toAbortSignal()` gives a real AbortSignal where an API insists on one.
   */
  readonly signal: CancelSignal & { toAbortSignal(): AbortSignal };
  readonly connection: ConnectionInfo;
  /** `clock.monotonic()` when the request head was complete. */
  readonly receivedAt: number;
}

/**
 * What the layer above the transport implements. The promise resolves with the response head as soon as it
 * is known; the body keeps streaming after that. Throwing `resetExchange(...)` (or failing the response body)
 * resets the exchange instead of answering: the HTTP/1.1 connection is closed, the HTTP/2 stream gets
 * RST_STREAM. Any other throw becomes a 500 local reply.
 */
export type Handler = (req: ProxyRequest, ctx: ExchangeContext) => Promise<ProxyResponse>;

/** The settled state of one exchange, for access logs and stats. */
export interface ExchangeOutcome {
  readonly request: ProxyRequest;
  /** Undefined when the exchange ended without a response (reset, downstream gone). */
  readonly status: number | undefined;
  readonly requestBytes: number;
  readonly responseBytes: number;
  /** The error that ended the exchange early, if any. */
  readonly error: Error | undefined;
  readonly receivedAt: number;
  readonly completedAt: number;
}

/** Fields for `createRequest`; everything but method and path has a default. */
export interface RequestInit {
  method: string;
  path: string;
  authority?: string;
  scheme?: string;
  version?: HttpVersion;
  headers?: HeaderList | Record<string, string | string[]>;
  body?: Body;
  absoluteForm?: boolean;
  upgrade?: string;
}

/** Builds a request (a mirror copy, a health check, an ext_authz call, a test). */
export function createRequest(init: RequestInit): ProxyRequest {
  return {
    method: init.method,
    scheme: init.scheme ?? 'http',
    authority: init.authority ?? '',
    path: init.path,
    version: init.version ?? '1.1',
    headers: init.headers instanceof HeaderList ? init.headers : new HeaderList(init.headers),
    body: init.body ?? EMPTY_BODY,
    absoluteForm: init.absoluteForm ?? false,
    upgrade: init.upgrade,
  };
}

/** Fields of a locally generated reply. */
export interface LocalReplyInit {
  status: number;
  headers?: HeaderList | Record<string, string | string[]>;
  body?: string | Buffer | Body;
  /**
   * Why the proxy answered, as docs/xds-contract.md §8 wants it: `<FLAG> <reason naming the config object>`,
   * e.g. `NR no route for host "foo:9080" in route config "9080"`. Sent as `x-trellis-reason`.
   */
  reason?: string;
  /** Content type of a string/Buffer body (default `text/plain` when there is a body). */
  contentType?: string;
}

/** A reply the proxy makes itself instead of forwarding (no route, rbac deny, fault abort, rate limit...). */
export function localReply(init: LocalReplyInit): ProxyResponse {
  const headers = init.headers instanceof HeaderList ? init.headers.clone() : new HeaderList(init.headers);
  let body: Body;
  if (init.body === undefined) body = EMPTY_BODY;
  else if (typeof init.body === 'string' || Buffer.isBuffer(init.body)) body = bufferBody(init.body);
  else body = init.body;
  if (
    body.size !== 0 &&
    !headers.has('content-type') &&
    (typeof init.body === 'string' || Buffer.isBuffer(init.body))
  ) {
    headers.set('content-type', init.contentType ?? 'text/plain');
  }
  if (init.reason !== undefined) headers.set('x-trellis-reason', sanitizeReason(init.reason));
  return { status: init.status, headers, body };
}

/** A reason is free text from config names: keep it a valid header value rather than failing the reply. */
function sanitizeReason(reason: string): string {
  return reason.replace(/[^\t\x20-\x7e]/g, '?').slice(0, 1024);
}

/** The error to throw from a handler to reset the exchange instead of answering it. */
export function resetExchange(reason: string): TrellisError {
  return new TrellisError('HTTP_EXCHANGE_RESET', reason);
}

/** The abort reason of `ExchangeContext.signal`. */
export function downstreamDisconnected(detail: string): TrellisError {
  return new TrellisError('DOWNSTREAM_DISCONNECTED', `downstream went away: ${detail}`);
}

/** True for responses that never carry a body (RFC 9110 §6.4.1), whatever their headers say. */
export function isBodilessStatus(status: number): boolean {
  return status < 200 || status === 204 || status === 304;
}
