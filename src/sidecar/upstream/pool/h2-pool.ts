// HTTP/2 upstream sessions for one endpoint: one multiplexed session, reconnected on demand, stream limits honoured.

import http2, { type ClientHttp2Session, type ClientHttp2Stream, type OutgoingHttpHeaders } from 'node:http2';
import type { ConnectionOptions } from 'node:tls';
import { type Clock, systemClock } from '../../../shared/clock.js';
import { errorMessage } from '../../../shared/errors.js';
import { type Logger, silentLogger } from '../../../shared/log.js';
import { type Body, type BodySink, type BodySource, EMPTY_BODY, PushBody } from '../../http/body.js';
import { addFields, responseFields } from '../../http/h2/fields.js';
import type { HeaderList } from '../../http/headers.js';
import type { ProxyRequest, ProxyResponse } from '../../http/message.js';
import { Attempt } from './attempt.js';
import { connectEndpoint, type Endpoint, endpointName } from './connect.js';
import { abortError, UpstreamError } from './errors.js';
import type { PoolRequestOptions, UpstreamPool } from './h1-pool.js';
import { type PoolPolicy, type PoolStats, UNLIMITED_POLICY } from './policy.js';

const { NGHTTP2_CANCEL, NGHTTP2_FLAG_END_STREAM, NGHTTP2_NO_ERROR, NGHTTP2_REFUSED_STREAM } = http2.constants;

export interface Http2PoolOptions {
  endpoint: Endpoint;
  /** TLS client options; ALPN is forced to `h2`. Plain h2c (prior knowledge) when absent. */
  tls?: ConnectionOptions;
  /** Our own cap on concurrent streams per session; the peer's SETTINGS may lower it. Default 100. */
  maxConcurrentStreams?: number;
  /** Streams per session before a new session is started (Envoy's max_requests_per_connection). */
  maxRequestsPerConnection?: number;
  /** A session without streams for this long is closed (default 1 h). */
  idleTimeoutMs?: number;
  /** TCP connect plus TLS handshake (default 10 s). */
  connectTimeoutMs?: number;
  /** Sessions at once: a new one opens when every open session is at its stream limit (default 1). */
  maxSessions?: number;
  /** Source address of upstream connections (upstream_bind_config); the kernel picks when absent. */
  localAddress?: string;
  /** TCP keep-alive probes on upstream sockets (default off). */
  tcpKeepAliveMs?: number;
  policy?: PoolPolicy;
  clock?: Clock;
  logger?: Logger;
}

/** One client session and its stream accounting. */
class Session {
  readonly h2: ClientHttp2Session;
  active = 0;
  started = 0;
  maxStreams: number;
  /** No new streams: GOAWAY received, request budget used, or closing. */
  draining = false;

  constructor(h2: ClientHttp2Session, maxStreams: number) {
    this.h2 = h2;
    this.maxStreams = maxStreams;
  }

  get usable(): boolean {
    return !this.draining && !this.h2.closed && !this.h2.destroyed && this.active < this.maxStreams;
  }
}

export class Http2Pool implements UpstreamPool {
  readonly endpoint: Endpoint;
  readonly endpointName: string;
  #opts: Http2PoolOptions;
  #policy: PoolPolicy;
  #clock: Clock;
  #logger: Logger;
  #sessions: Session[] = [];
  #pending: Attempt[] = [];
  #connecting = 0;
  #closing = false;
  #stats: PoolStats;

  constructor(opts: Http2PoolOptions) {
    this.endpoint = opts.endpoint;
    this.endpointName = endpointName(opts.endpoint);
    this.#opts = opts;
    this.#policy = opts.policy ?? UNLIMITED_POLICY;
    this.#clock = opts.clock ?? systemClock;
    this.#logger = opts.logger ?? silentLogger;
    const pool = this;
    this.#stats = {
      get active() {
        return pool.#sessions.filter((s) => s.active > 0).length;
      },
      get idle() {
        return pool.#sessions.filter((s) => s.active === 0).length;
      },
      get pending() {
        return pool.#pending.length;
      },
      get connecting() {
        return pool.#connecting;
      },
    };
  }

  get stats(): PoolStats {
    return this.#stats;
  }

  /** Streams in flight over all sessions. */
  get activeStreams(): number {
    let n = 0;
    for (const s of this.#sessions) n += s.active;
    return n;
  }

  request(req: ProxyRequest, opts?: PoolRequestOptions): Promise<ProxyResponse> {
    const attempt = new Attempt(req, opts?.signal);
    if (this.#closing) {
      attempt.reject(this.#closedError());
    } else if (attempt.signal?.aborted) {
      attempt.reject(abortError(this.endpointName, attempt.signal.reason, false));
    } else {
      this.#pending.push(attempt);
      this.#pump();
    }
    return attempt.promise;
  }

  wake(): void {
    this.#pump();
  }

  close(): void {
    this.#closing = true;
    for (const attempt of this.#pending.splice(0)) attempt.reject(this.#closedError());
    for (const s of this.#sessions) {
      s.draining = true;
      s.h2.close();
    }
  }

  destroy(): void {
    this.close();
    for (const s of [...this.#sessions]) s.h2.destroy();
  }

  /** Starts pending requests on usable sessions; opens a session when none has room. */
  #pump(): void {
    const pending = this.#pending;
    while (pending.length > 0) {
      const attempt = pending[0]!;
      if (attempt.settled) {
        pending.shift();
        continue;
      }
      const session = this.#sessions.find((s) => s.usable && s.h2.connecting === false);
      if (session === undefined) break;
      pending.shift();
      this.#startStream(session, attempt);
    }
    if (pending.length > 0 && this.#connecting === 0) this.#open();
  }

  #open(): void {
    if (this.#closing) return;
    const maxSessions = this.#opts.maxSessions ?? 1;
    const live = this.#sessions.filter((s) => !s.draining).length;
    if (live >= maxSessions) return;
    if (!this.#policy.mayOpenConnection(this.#stats)) return;
    this.#connecting++;
    const tls = this.#opts.tls ? { ...this.#opts.tls, ALPNProtocols: ['h2'] } : undefined;
    connectEndpoint({
      endpoint: this.endpoint,
      tls,
      timeoutMs: this.#opts.connectTimeoutMs ?? 10_000,
      clock: this.#clock,
      tcpKeepAliveMs: this.#opts.tcpKeepAliveMs,
      localAddress: this.#opts.localAddress,
    }).then(
      (socket) => {
        if (tls && (socket as import('node:tls').TLSSocket).alpnProtocol !== 'h2') {
          socket.destroy();
          this.#connectFailed(
            new UpstreamError({
              code: 'UPSTREAM_CONNECT_FAILURE',
              flag: 'UF',
              endpoint: this.endpointName,
              message: `${this.endpointName} did not negotiate h2 over TLS (ALPN)`,
            }),
          );
          return;
        }
        const authority = `${tls ? 'https' : 'http'}://${this.endpointName}`;
        const h2 = http2.connect(authority, {
          createConnection: () => socket,
          settings: { enablePush: false },
        });
        const session = new Session(h2, this.#opts.maxConcurrentStreams ?? 100);
        this.#sessions.push(session);
        this.#policy.onConnectionOpened?.();
        h2.on('error', (err) => this.#logger.debug('upstream http2 session error', { error: err.message }));
        h2.on('remoteSettings', (settings) => {
          const peer = settings.maxConcurrentStreams ?? Number.POSITIVE_INFINITY;
          session.maxStreams = Math.min(this.#opts.maxConcurrentStreams ?? 100, peer);
          this.#pump();
        });
        h2.on('goaway', () => {
          session.draining = true;
          this.#pump();
        });
        h2.on('close', () => {
          const i = this.#sessions.indexOf(session);
          if (i !== -1) this.#sessions.splice(i, 1);
          this.#policy.onConnectionClosed?.();
          this.#pump();
        });
        h2.setTimeout(this.#opts.idleTimeoutMs ?? 3_600_000, () => {
          if (session.active === 0) {
            session.draining = true;
            h2.close();
          }
        });
        const ready = () => {
          this.#connecting--;
          this.#pump();
        };
        if (h2.connecting) h2.once('connect', ready);
        else ready();
      },
      (err: unknown) => this.#connectFailed(err as Error),
    );
  }

  #connectFailed(err: Error): void {
    this.#connecting--;
    this.#logger.debug('upstream connect failed', { endpoint: this.endpointName, error: errorMessage(err) });
    // Every waiting request shared this one connect: all of them fail (Envoy does the same).
    for (const attempt of this.#pending.splice(0)) {
      attempt.req.body.cancel(err);
      attempt.reject(err);
    }
  }

  #startStream(session: Session, attempt: Attempt): void {
    session.active++;
    session.started++;
    const limit = this.#opts.maxRequestsPerConnection;
    if (limit !== undefined && limit > 0 && session.started >= limit) session.draining = true;
    new H2ClientExchange(this, session, attempt).start();
  }

  /** @internal a stream ended one way or another */
  streamDone(session: Session): void {
    session.active--;
    if (session.draining && session.active === 0 && !session.h2.closed) session.h2.close();
    this.#pump();
  }

  /** @internal retry a request the server refused without processing it (REFUSED_STREAM) */
  retryRefused(attempt: Attempt, err: UpstreamError): boolean {
    if (attempt.retried || this.#closing) return false;
    const body = attempt.req.body;
    const again = body === EMPTY_BODY || body.size === 0 ? body : body.replayable ? body.replay() : undefined;
    if (again === undefined) return false;
    if (again !== body) body.cancel(err);
    attempt.retried = true;
    attempt.req = { ...attempt.req, body: again };
    this.#pending.unshift(attempt);
    this.#pump();
    return true;
  }

  #closedError(): UpstreamError {
    return new UpstreamError({
      code: 'UPSTREAM_LOCAL_RESET',
      flag: 'LR',
      endpoint: this.endpointName,
      message: `the HTTP/2 pool for ${this.endpointName} is closed`,
    });
  }
}

/** One upstream stream: the request body's sink and the response body's source. */
class H2ClientExchange implements BodySink, BodySource {
  readonly #pool: Http2Pool;
  readonly #session: Session;
  readonly #attempt: Attempt;
  #stream: ClientHttp2Stream | undefined = undefined;
  #reqBody: Body | undefined = undefined;
  #reqTrailers: HeaderList | undefined = undefined;
  #resBody: PushBody | undefined = undefined;
  #resTrailers: HeaderList | undefined = undefined;
  #responded = false;
  #responseEnded = false;
  #done = false;
  #onAbort: (() => void) | undefined = undefined;

  constructor(pool: Http2Pool, session: Session, attempt: Attempt) {
    this.#pool = pool;
    this.#session = session;
    this.#attempt = attempt;
  }

  start(): void {
    const req = this.#attempt.req;
    const body = req.body;
    const headers: OutgoingHttpHeaders = {
      ':method': req.method,
      ':path': req.path,
      ':authority': req.authority,
      ':scheme': req.scheme || 'http',
    };
    addFields(headers, req.headers);
    if (body.size !== undefined && body.size > 0) headers['content-length'] = String(body.size);
    const endStream = body === EMPTY_BODY || body.size === 0;
    let stream: ClientHttp2Stream;
    try {
      stream = this.#session.h2.request(headers, { endStream, waitForTrailers: !endStream });
    } catch (e) {
      this.#session.draining = true;
      this.#fail(
        this.#error('UPSTREAM_RESET_BEFORE_RESPONSE', 'UC', `could not open a stream: ${errorMessage(e)}`, e),
      );
      return;
    }
    this.#stream = stream;
    stream.on('error', () => {});
    stream.on('response', (_h: unknown, flags: number, raw?: unknown) =>
      this.#onResponse(stream, flags, raw as string[]),
    );
    stream.on('close', () => this.#onClose(stream));
    stream.on('drain', () => this.#reqBody?.resume());
    stream.on('wantTrailers', () => {
      const trailers = this.#reqTrailers;
      stream.sendTrailers(trailers === undefined ? {} : addFields({}, trailers));
    });
    const signal = this.#attempt.signal;
    if (signal !== undefined) {
      this.#onAbort = () => this.#abort(signal.reason);
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
    if (!endStream) {
      this.#reqBody = body;
      body.read(this);
    }
  }

  // --- request body sink ---

  onData(chunk: Buffer): boolean {
    const stream = this.#stream;
    if (stream === undefined || stream.destroyed) return false;
    return stream.write(chunk);
  }

  onEnd(trailers: HeaderList | undefined): void {
    this.#reqBody = undefined;
    this.#reqTrailers = trailers;
    this.#stream?.end();
  }

  onError(err: Error): void {
    this.#reqBody = undefined;
    this.#fail(this.#error('UPSTREAM_LOCAL_RESET', 'LR', `the request body failed: ${err.message}`, err));
  }

  // --- response body source ---

  pause(): void {
    this.#stream?.pause();
  }

  resume(): void {
    this.#stream?.resume();
  }

  cancel(reason: Error): void {
    // Only an unfinished stream is reset: RST_STREAM after a finished one trips the peer's rapid-reset guard.
    if (this.#responseEnded) return;
    this.#resBody = undefined;
    this.#fail(
      this.#error('UPSTREAM_LOCAL_RESET', 'LR', `the response reader cancelled: ${reason.message}`, reason),
    );
  }

  // --- stream events ---

  #onResponse(stream: ClientHttp2Stream, flags: number, raw: string[]): void {
    // Body listeners are attached only now: node:http2 emits 'response' on nextTick, after DATA may be queued.
    const { status, headers } = responseFields(raw);
    this.#responded = true;
    let body: Body = EMPTY_BODY;
    // END_STREAM on the HEADERS frame: no body (a gRPC trailers-only response lands here).
    if ((flags & NGHTTP2_FLAG_END_STREAM) !== 0 || stream.endAfterHeaders) {
      this.#responseEnded = true;
    } else {
      const length = headers.get('content-length');
      const size = length !== undefined && /^\d{1,15}$/.test(length) ? Number(length) : undefined;
      const resBody = new PushBody({ size, source: this });
      this.#resBody = resBody;
      body = resBody;
      stream.on('data', (chunk: Buffer) => this.#resBody?.push(chunk));
      stream.on('trailers', (_t: unknown, _f: unknown, rawTrailers?: unknown) => {
        this.#resTrailers = responseFields(rawTrailers as string[]).headers;
      });
      stream.on('end', () => {
        this.#responseEnded = true;
        const b = this.#resBody;
        this.#resBody = undefined;
        b?.end(this.#resTrailers);
      });
    }
    this.#attempt.resolve({ status, headers, body });
  }

  #onClose(stream: ClientHttp2Stream): void {
    if (this.#done) return;
    const code = stream.rstCode;
    if (this.#responseEnded && code === NGHTTP2_NO_ERROR) {
      this.#finish();
      return;
    }
    const sessionGone = this.#session.h2.destroyed || this.#session.h2.closed;
    const detail = code !== NGHTTP2_NO_ERROR ? `stream reset with code ${code}` : 'the stream closed';
    if (!this.#responded && code === NGHTTP2_REFUSED_STREAM) {
      const err = this.#error('UPSTREAM_RESET_BEFORE_RESPONSE', 'UR', `${detail} (refused stream)`);
      this.#finish();
      this.#reqBody = undefined;
      if (!this.#pool.retryRefused(this.#attempt, err)) {
        this.#attempt.req.body.cancel(err);
        this.#attempt.reject(err);
      }
      return;
    }
    const flag = sessionGone && code === NGHTTP2_NO_ERROR ? 'UC' : 'UR';
    this.#fail(
      this.#error(
        this.#responded ? 'UPSTREAM_RESET_AFTER_RESPONSE_START' : 'UPSTREAM_RESET_BEFORE_RESPONSE',
        flag,
        sessionGone ? `${detail}; the session closed` : detail,
      ),
    );
  }

  #abort(reason: unknown): void {
    if (this.#done) return;
    this.#fail(abortError(this.#pool.endpointName, reason, this.#responded));
  }

  #error(
    code: UpstreamError['code'],
    flag: UpstreamError['flag'],
    detail: string,
    cause?: unknown,
  ): UpstreamError {
    const name = this.#pool.endpointName;
    return new UpstreamError({
      code,
      flag,
      endpoint: name,
      responseStarted: this.#responded,
      message: this.#responded
        ? `response from ${name} broke off: ${detail}`
        : `${name} reset before responding: ${detail}`,
      cause,
    });
  }

  #fail(err: UpstreamError): void {
    if (this.#done) return;
    this.#finish();
    const stream = this.#stream;
    if (stream !== undefined && !stream.closed && !stream.destroyed && !this.#responseEnded)
      stream.close(NGHTTP2_CANCEL);
    this.#reqBody?.cancel(err);
    this.#reqBody = undefined;
    if (this.#responded) {
      this.#resBody?.fail(err);
      this.#resBody = undefined;
    } else {
      this.#attempt.reject(err);
    }
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    const signal = this.#attempt.signal;
    if (signal !== undefined && this.#onAbort !== undefined)
      signal.removeEventListener('abort', this.#onAbort);
    this.#pool.streamDone(this.#session);
  }
}
