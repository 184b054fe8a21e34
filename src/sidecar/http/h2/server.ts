// The downstream side of HTTP/2 (h2c prior knowledge, or h2 over TLS): node:http2 streams as exchanges.

import http2, {
  type Http2Session,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
  type ServerStreamResponseOptions,
} from 'node:http2';
import type { Socket } from 'node:net';
import { type Clock, systemClock } from '../../../shared/clock.js';
import { errorMessage, isTrellisError } from '../../../shared/errors.js';
import { type Logger, silentLogger } from '../../../shared/log.js';
import { type Body, type BodySink, type BodySource, EMPTY_BODY, PushBody } from '../body.js';
import { Exchange } from '../exchange.js';
import { connectionInfo } from '../h1/server.js';
import type { HeaderList } from '../headers.js';
import {
  type ConnectionInfo,
  downstreamDisconnected,
  type ExchangeOutcome,
  type Handler,
  localReply,
  type ProxyRequest,
  type ProxyResponse,
} from '../message.js';
import { addFields, requestFields, responseFields } from './fields.js';

const { NGHTTP2_CANCEL, NGHTTP2_FLAG_END_STREAM, NGHTTP2_INTERNAL_ERROR, NGHTTP2_NO_ERROR } = http2.constants;

// node:http2 honours `sendDate` (a proxy must not invent Date headers) but @types/node does not declare it.
const RESPOND_END = { endStream: true, sendDate: false } as ServerStreamResponseOptions;
const RESPOND_TRAILERS = { waitForTrailers: true, sendDate: false } as ServerStreamResponseOptions;
const RESPOND_OPEN = { sendDate: false } as ServerStreamResponseOptions;

export interface Http2ServerOptions {
  handler: Handler;
  /** SETTINGS_MAX_CONCURRENT_STREAMS (default 100, Envoy's edge recommendation). */
  maxConcurrentStreams?: number;
  /** Header fields per request before it is refused with 431 (default 100, Envoy's max_headers_count). */
  maxHeaderCount?: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE in bytes (default 60 KiB, Envoy's max_request_headers_kb). */
  maxHeaderListBytes?: number;
  /** Per-stream flow-control window (default 64 KiB). */
  streamWindowBytes?: number;
  /** Connection flow-control window (default 1 MiB). */
  connectionWindowBytes?: number;
  /** A session with no activity for this long is closed with GOAWAY (default 1 h). */
  idleTimeoutMs?: number;
  /** Accept CONNECT (default false: 405). */
  allowConnect?: boolean;
  onExchangeComplete?: (outcome: ExchangeOutcome) => void;
  clock?: Clock;
  logger?: Logger;
}

interface ResolvedOptions {
  handler: Handler;
  maxHeaderCount: number;
  connectionWindowBytes: number;
  idleTimeoutMs: number;
  allowConnect: boolean;
  onExchangeComplete: ((outcome: ExchangeOutcome) => void) | undefined;
  clock: Clock;
  logger: Logger;
}

/** Serves HTTP/2 on sockets the listener accepted: plain sockets carry h2c, TLS sockets negotiated `h2`. */
export class Http2Server {
  readonly #opts: ResolvedOptions;
  readonly #h2: http2.Http2Server;
  readonly #sessions = new Map<Http2Session, ConnectionInfo>();
  #nextInfo: ConnectionInfo | undefined = undefined;

  constructor(opts: Http2ServerOptions) {
    this.#opts = {
      handler: opts.handler,
      maxHeaderCount: opts.maxHeaderCount ?? 100,
      connectionWindowBytes: opts.connectionWindowBytes ?? 1024 * 1024,
      idleTimeoutMs: opts.idleTimeoutMs ?? 3_600_000,
      allowConnect: opts.allowConnect ?? false,
      onExchangeComplete: opts.onExchangeComplete,
      clock: opts.clock ?? systemClock,
      logger: opts.logger ?? silentLogger,
    };
    this.#h2 = http2.createServer({
      settings: {
        maxConcurrentStreams: opts.maxConcurrentStreams ?? 100,
        maxHeaderListSize: opts.maxHeaderListBytes ?? 60 * 1024,
        initialWindowSize: opts.streamWindowBytes ?? 64 * 1024,
        enableConnectProtocol: false,
      },
      // nghttp2 counts pseudo-headers too; the adapter enforces the field count itself.
      maxHeaderListPairs: (opts.maxHeaderCount ?? 100) + 8,
    });
    this.#h2.on('session', (session) => this.#onSession(session));
    this.#h2.on('stream', (stream: ServerHttp2Stream, _headers: unknown, flags: number, raw?: unknown) =>
      this.#onStream(stream, flags, raw as string[]),
    );
    this.#h2.on('sessionError', (err) =>
      this.#opts.logger.debug('http2 session error', { error: err.message }),
    );
  }

  /** Takes over a connected socket speaking HTTP/2 (its first bytes must be the connection preface). */
  serve(socket: Socket, info?: Partial<ConnectionInfo>): void {
    const tls = (socket as Socket & { encrypted?: boolean }).encrypted === true;
    this.#nextInfo = connectionInfo(socket, tls ? 'h2' : 'h2c', info);
    try {
      this.#h2.emit('connection', socket);
    } finally {
      this.#nextInfo = undefined;
    }
  }

  /** Open sessions. */
  get sessions(): number {
    return this.#sessions.size;
  }

  /** GOAWAY to every session; streams in flight finish. */
  close(): void {
    for (const session of this.#sessions.keys()) session.close();
  }

  destroy(): void {
    for (const session of this.#sessions.keys()) session.destroy();
  }

  #onSession(session: Http2Session): void {
    const info = this.#nextInfo ?? connectionInfo(session.socket as Socket, 'h2c');
    this.#sessions.set(session, info);
    session.on('close', () => this.#sessions.delete(session));
    session.on('error', (err) => this.#opts.logger.debug('http2 session error', { error: err.message }));
    session.setTimeout(this.#opts.idleTimeoutMs, () => session.close());
    session.on('connect', () => {
      try {
        session.setLocalWindowSize(this.#opts.connectionWindowBytes);
      } catch {
        // the session closed before its settings were exchanged
      }
    });
  }

  #onStream(stream: ServerHttp2Stream, flags: number, raw: string[]): void {
    stream.on('error', () => {});
    const info = this.#sessions.get(stream.session as Http2Session);
    if (info === undefined) {
      stream.close(NGHTTP2_INTERNAL_ERROR);
      return;
    }
    const fields = requestFields(raw, this.#opts.maxHeaderCount);
    if (fields.problem !== undefined) {
      const status = fields.problem.startsWith('more than') ? 431 : 400;
      respondLocal(stream, status, `DPE ${fields.problem}`);
      return;
    }
    if (fields.method === 'CONNECT' && !this.#opts.allowConnect) {
      respondLocal(
        stream,
        405,
        `DPE CONNECT to ${JSON.stringify(fields.authority)} refused: tunnelling is not enabled`,
      );
      return;
    }
    const endStream = (flags & NGHTTP2_FLAG_END_STREAM) !== 0 || stream.endAfterHeaders;
    new H2ServerExchange(this.#opts, stream, info, fields, endStream).start();
  }
}

function respondLocal(stream: ServerHttp2Stream, status: number, reason: string): void {
  if (stream.destroyed) return;
  const body = `${reason.slice(reason.indexOf(' ') + 1)}\n`;
  stream.respond(
    {
      ':status': status,
      'content-type': 'text/plain',
      'content-length': String(Buffer.byteLength(body)),
      'x-trellis-reason': reason,
    },
    RESPOND_OPEN,
  );
  stream.end(body);
}

/** One HTTP/2 stream as an exchange: the request body's source and the response body's sink. */
class H2ServerExchange implements BodySource, BodySink {
  readonly #opts: ResolvedOptions;
  readonly #stream: ServerHttp2Stream;
  readonly #exchange: Exchange;
  readonly #request: ProxyRequest;
  #reqBody: PushBody | undefined = undefined;
  #reqTrailers: HeaderList | undefined = undefined;
  #requestEnded = false;
  #requestBytes = 0;
  #resBody: Body | undefined = undefined;
  #resTrailers: HeaderList | undefined = undefined;
  #responded = false;
  #responseEnded = false;
  #responseBytes = 0;
  #status: number | undefined = undefined;
  #done = false;

  constructor(
    opts: ResolvedOptions,
    stream: ServerHttp2Stream,
    info: ConnectionInfo,
    fields: ReturnType<typeof requestFields>,
    endStream: boolean,
  ) {
    this.#opts = opts;
    this.#stream = stream;
    this.#exchange = new Exchange(info, opts.clock.monotonic());
    let body: Body = EMPTY_BODY;
    if (!endStream) {
      this.#reqBody = new PushBody({ size: fields.contentLength, source: this });
      body = this.#reqBody;
      stream.on('data', (chunk: Buffer) => {
        this.#requestBytes += chunk.length;
        this.#reqBody?.push(chunk);
      });
      stream.on('trailers', (_t: unknown, _f: unknown, rawTrailers?: unknown) => {
        this.#reqTrailers = responseFields(rawTrailers as string[]).headers;
      });
      stream.on('end', () => {
        this.#requestEnded = true;
        this.#reqBody?.end(this.#reqTrailers);
      });
    } else {
      this.#requestEnded = true;
    }
    this.#request = {
      method: fields.method,
      scheme: fields.scheme || (info.tls ? 'https' : 'http'),
      authority: fields.authority,
      path: fields.method === 'CONNECT' ? '' : fields.path,
      version: '2',
      headers: fields.headers,
      body,
      absoluteForm: false,
      upgrade: undefined,
    };
    stream.on('close', () => this.#onClose());
    stream.on('drain', () => this.#resBody?.resume());
    stream.on('wantTrailers', () => {
      const trailers = this.#resTrailers;
      this.#stream.sendTrailers(trailers === undefined ? {} : addFields({}, trailers));
    });
  }

  start(): void {
    let pending: Promise<ProxyResponse>;
    try {
      pending = this.#opts.handler(this.#request, this.#exchange);
    } catch (e) {
      pending = Promise.reject(e);
    }
    pending.then(
      (res) => this.#respondSafely(res),
      (err: unknown) => this.#handlerFailed(err),
    );
  }

  /** node:http2 throws on header values it cannot encode: that resets the stream, it must not escape. */
  #respondSafely(res: ProxyResponse): void {
    try {
      this.#respond(res);
    } catch (e) {
      this.#opts.logger.warn('could not write the response; resetting the stream', {
        error: errorMessage(e),
      });
      res.body.cancel();
      this.#finish(e as Error);
      if (!this.#stream.destroyed) this.#stream.close(NGHTTP2_INTERNAL_ERROR);
    }
  }

  // --- request body source ---

  pause(): void {
    this.#stream.pause();
  }

  resume(): void {
    this.#stream.resume();
  }

  cancel(): void {
    // Keep draining what the client sends; the stream is reset once the response is complete.
    this.#reqBody = undefined;
    this.#stream.resume();
  }

  // --- response ---

  #respond(res: ProxyResponse): void {
    const stream = this.#stream;
    if (this.#done || stream.destroyed || stream.closed) {
      res.body.cancel(downstreamDisconnected('the stream closed before the response'));
      res.tunnel?.destroy();
      return;
    }
    const method = this.#request.method;
    const status = res.status;
    if (method === 'CONNECT' && status >= 200 && status < 300 && res.tunnel !== undefined) {
      this.#tunnel(res);
      return;
    }
    if (!Number.isInteger(status) || status < 200 || status > 999) {
      res.body.cancel();
      res.tunnel?.destroy();
      this.#respond(
        localReply({
          status: 502,
          body: 'invalid response status\n',
          reason: `UPE invalid status ${status}`,
        }),
      );
      return;
    }
    this.#status = status;
    const headers: OutgoingHttpHeaders = addFields({ ':status': status }, res.headers);
    const body = res.body;
    const noBody = method === 'HEAD' || status === 204 || status === 304;
    if (noBody && (method === 'HEAD' || status === 304)) {
      const length = res.headers.get('content-length');
      if (length !== undefined) headers['content-length'] = length;
    } else if (!noBody && body.size !== undefined) {
      headers['content-length'] = String(body.size);
    }
    this.#responded = true;
    if (noBody || body === EMPTY_BODY) {
      if (body !== EMPTY_BODY) body.cancel();
      // An empty response goes out as one HEADERS frame with END_STREAM: that keeps gRPC trailers-only
      // responses trailers-only.
      stream.respond(headers, RESPOND_END);
      this.#responseEnded = true;
      return;
    }
    stream.respond(headers, RESPOND_TRAILERS);
    this.#resBody = body;
    body.read(this);
  }

  onData(chunk: Buffer): boolean {
    this.#responseBytes += chunk.length;
    return this.#stream.write(chunk);
  }

  onEnd(trailers: HeaderList | undefined): void {
    this.#resTrailers = trailers;
    this.#resBody = undefined;
    this.#responseEnded = true;
    this.#stream.end();
  }

  onError(err: Error): void {
    this.#opts.logger.debug('response body failed; resetting the stream', { error: err.message });
    this.#resBody = undefined;
    this.#finish(err);
    this.#stream.close(NGHTTP2_INTERNAL_ERROR);
  }

  #handlerFailed(err: unknown): void {
    if (this.#done || this.#stream.destroyed) return;
    if (isTrellisError(err, 'HTTP_EXCHANGE_RESET')) {
      this.#finish(err as Error);
      this.#stream.close(NGHTTP2_INTERNAL_ERROR);
      return;
    }
    this.#opts.logger.warn('handler failed', { error: errorMessage(err), path: this.#request.path });
    this.#respond(
      localReply({ status: 500, body: 'internal error\n', reason: `internal error: ${errorMessage(err)}` }),
    );
  }

  #tunnel(res: ProxyResponse): void {
    const stream = this.#stream;
    const tunnel = res.tunnel!;
    this.#status = res.status;
    this.#responded = true;
    stream.respond(addFields({ ':status': res.status }, res.headers), RESPOND_OPEN);
    res.body.cancel();
    tunnel.on('error', () => stream.close(NGHTTP2_CANCEL));
    stream.on('close', () => tunnel.destroy());
    stream.pipe(tunnel);
    tunnel.pipe(stream);
  }

  #onClose(): void {
    const stream = this.#stream;
    if (this.#responseEnded && stream.rstCode === NGHTTP2_NO_ERROR) {
      this.#finish(undefined);
      return;
    }
    const reason = downstreamDisconnected(
      stream.rstCode !== NGHTTP2_NO_ERROR ? `stream reset (code ${stream.rstCode})` : 'the stream closed',
    );
    this.#exchange.abort(reason);
    if (!this.#requestEnded) this.#reqBody?.fail(reason);
    this.#resBody?.cancel(reason);
    this.#resBody = undefined;
    this.#finish(reason);
  }

  #finish(error: Error | undefined): void {
    if (this.#done) return;
    this.#done = true;
    const hook = this.#opts.onExchangeComplete;
    if (hook === undefined) return;
    hook({
      request: this.#request,
      status: this.#responded ? this.#status : undefined,
      requestBytes: this.#requestBytes,
      responseBytes: this.#responseBytes,
      error,
      receivedAt: this.#exchange.receivedAt,
      completedAt: this.#opts.clock.monotonic(),
    });
  }
}
