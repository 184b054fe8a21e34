// The downstream side of HTTP/1.1: one state machine per connection turns bytes into exchanges and back.

import type { Socket } from 'node:net';
import { type Clock, systemClock } from '../../../shared/clock.js';
import { errorMessage, isTrellisError } from '../../../shared/errors.js';
import { type Logger, silentLogger } from '../../../shared/log.js';
import {
  type Body,
  type BodySink,
  type BodySource,
  EMPTY_BODY,
  PushBody,
  type PushBodyOptions,
} from '../body.js';
import { type DeadlineHolder, DeadlineSweeper } from '../deadlines.js';
import { Exchange } from '../exchange.js';
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
import type { HttpParseError } from './errors.js';
import type { ParsedRequestHead } from './head.js';
import { DEFAULT_H1_LIMITS, type H1Limits, H1Parser } from './parser.js';
import { chunkHeader, Framing, lastChunk, serializeResponseHead } from './serializer.js';

/** Options of an HTTP/1.1 server (one per listener filter chain). */
export interface Http1ServerOptions {
  handler: Handler;
  limits?: Partial<H1Limits>;
  /** From the first byte of a request until its head is complete (slowloris guard). 408 after. Default 60 s. */
  headersTimeoutMs?: number;
  /** A keep-alive connection with no exchange in flight is closed after this. Default 1 h (Envoy's). */
  idleTimeoutMs?: number;
  /** How long a closing connection may linger to let the client read the last response. Default 1 s. */
  delayedCloseMs?: number;
  /** Accept CONNECT and tunnel its 2xx responses. Default false: CONNECT gets 405. */
  allowConnect?: boolean;
  /** Called once per finished exchange (access logs, stats). */
  onExchangeComplete?: (outcome: ExchangeOutcome) => void;
  clock?: Clock;
  logger?: Logger;
  /** Deadline sweeper to share with other servers; one is created otherwise. */
  sweeper?: DeadlineSweeper;
}

interface ResolvedOptions {
  handler: Handler;
  limits: H1Limits;
  headersTimeoutMs: number;
  idleTimeoutMs: number;
  delayedCloseMs: number;
  allowConnect: boolean;
  onExchangeComplete: ((outcome: ExchangeOutcome) => void) | undefined;
  clock: Clock;
  logger: Logger;
  sweeper: DeadlineSweeper;
}

/** Bytes of pipelined requests buffered while one exchange is in flight before the socket stops being read. */
const PIPELINE_BUFFER_LIMIT = 64 * 1024;

/**
 * Serves HTTP/1.1 on sockets someone else accepted (the listener: plain, TLS, original-destination). The
 * sockets should come from a server with `allowHalfOpen: true` so a client that half-closes after its
 * request still gets the response.
 */
export class Http1Server {
  readonly #opts: ResolvedOptions;
  readonly #connections = new Set<Http1ServerConnection>();
  #closing = false;

  constructor(opts: Http1ServerOptions) {
    const clock = opts.clock ?? systemClock;
    this.#opts = {
      handler: opts.handler,
      limits: { ...DEFAULT_H1_LIMITS, ...opts.limits },
      headersTimeoutMs: opts.headersTimeoutMs ?? 60_000,
      idleTimeoutMs: opts.idleTimeoutMs ?? 3_600_000,
      delayedCloseMs: opts.delayedCloseMs ?? 1000,
      allowConnect: opts.allowConnect ?? false,
      onExchangeComplete: opts.onExchangeComplete,
      clock,
      logger: opts.logger ?? silentLogger,
      sweeper: opts.sweeper ?? new DeadlineSweeper({ clock }),
    };
  }

  /** Takes over a connected socket. `info` overrides what is read from the socket (e.g. original destination). */
  serve(socket: Socket, info?: Partial<ConnectionInfo>): void {
    const conn = new Http1ServerConnection(
      this,
      this.#opts,
      socket,
      connectionInfo(socket, 'http/1.1', info),
    );
    if (this.#closing) conn.drain();
  }

  /** Open connections. */
  get connections(): number {
    return this.#connections.size;
  }

  get closing(): boolean {
    return this.#closing;
  }

  /** Graceful drain: idle connections close now, busy ones after their current exchange. */
  close(): void {
    this.#closing = true;
    for (const conn of this.#connections) conn.drain();
  }

  /** Closes every connection at once. */
  destroy(): void {
    this.#closing = true;
    for (const conn of this.#connections) conn.destroy();
  }

  /** @internal */
  track(conn: Http1ServerConnection, open: boolean): void {
    if (open) this.#connections.add(conn);
    else this.#connections.delete(conn);
  }
}

/** Reads the ConnectionInfo of a socket once. */
export function connectionInfo(
  socket: Socket,
  protocol: ConnectionInfo['protocol'],
  overrides?: Partial<ConnectionInfo>,
): ConnectionInfo {
  const tlsSocket = socket as Socket & { encrypted?: boolean; alpnProtocol?: string | false };
  return {
    remoteAddress: socket.remoteAddress ?? '',
    remotePort: socket.remotePort ?? 0,
    localAddress: socket.localAddress ?? '',
    localPort: socket.localPort ?? 0,
    tls: tlsSocket.encrypted === true,
    alpn: typeof tlsSocket.alpnProtocol === 'string' ? tlsSocket.alpnProtocol : undefined,
    protocol,
    socket,
    ...overrides,
  };
}

/** A request body that sends `100 Continue` when somebody first reads it (RFC 9110 §10.1.1). */
class ContinueBody extends PushBody {
  #onFirstRead: (() => void) | undefined;

  constructor(opts: PushBodyOptions, onFirstRead: () => void) {
    super(opts);
    this.#onFirstRead = onFirstRead;
  }

  override read(sink: BodySink): void {
    const first = this.#onFirstRead;
    this.#onFirstRead = undefined;
    first?.();
    super.read(sink);
  }
}

enum Wait {
  Idle,
  Headers,
  Linger,
}

/**
 * One downstream connection. It is the parser's event target, the request body's source and the response
 * body's sink all at once, so an exchange allocates no callback objects of its own. Exchanges run strictly
 * one at a time; pipelined requests wait in the parser.
 */
class Http1ServerConnection implements DeadlineHolder, BodySource, BodySink {
  readonly #server: Http1Server;
  readonly #opts: ResolvedOptions;
  readonly #socket: Socket;
  readonly #info: ConnectionInfo;
  readonly #parser: H1Parser;
  deadline = 0;
  #wait: Wait = Wait.Idle;
  #closed = false;
  #closing = false;
  #draining = false;
  #readEnded = false;
  #socketPaused = false;
  #bodyPaused = false;
  #pipelinePaused = false;
  // the exchange in flight
  #exchange: Exchange | undefined = undefined;
  #head: ParsedRequestHead | undefined = undefined;
  #request: ProxyRequest | undefined = undefined;
  #reqBody: PushBody | undefined = undefined;
  #requestComplete = false;
  #requestBytes = 0;
  #responseStarted = false;
  #continueSent = false;
  #resBody: Body | undefined = undefined;
  #status: number | undefined = undefined;
  #framing: Framing = Framing.None;
  #resLength = 0;
  #resWritten = 0;
  #keepAlive = false;
  #waitingDrain = false;

  constructor(server: Http1Server, opts: ResolvedOptions, socket: Socket, info: ConnectionInfo) {
    this.#server = server;
    this.#opts = opts;
    this.#socket = socket;
    this.#info = info;
    this.#parser = new H1Parser('request', this, opts.limits);
    socket.setNoDelay(true);
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onClose);
    socket.on('error', this.#onError);
    socket.on('drain', this.#onDrain);
    server.track(this, true);
    this.#setWait(Wait.Idle);
    opts.sweeper.add(this);
  }

  // --- socket events ---

  #onData = (chunk: Buffer): void => {
    if (this.#closing) return;
    if (this.#exchange === undefined && this.#parser.idle) this.#setWait(Wait.Headers);
    if (!this.#parser.execute(chunk)) {
      this.#protocolError(this.#parser.error!);
      return;
    }
    if (
      this.#parser.paused &&
      this.#exchange !== undefined &&
      this.#parser.bufferedBytes > PIPELINE_BUFFER_LIMIT
    ) {
      this.#pipelinePaused = true;
      this.#updateReading();
    }
  };

  #onEnd = (): void => {
    // A client FIN is taken as the client going away, as node:http and Envoy do by default: a half-closed
    // client that still waits for its response is rare, a vanished one holding an upstream exchange is not.
    this.#readEnded = true;
    if (this.#closing) return;
    if (this.#exchange !== undefined) {
      this.#abortExchange('the client closed the connection');
      return;
    }
    this.#closeGracefully();
  };

  #onClose = (): void => {
    this.#closed = true;
    this.deadline = 0;
    this.#opts.sweeper.delete(this);
    this.#server.track(this, false);
    if (this.#exchange !== undefined) this.#abortExchange('the connection closed');
  };

  #onError = (err: Error): void => {
    this.#opts.logger.debug('downstream connection error', {
      error: err.message,
      remote: this.#info.remoteAddress,
    });
  };

  #onDrain = (): void => {
    if (!this.#waitingDrain) return;
    this.#waitingDrain = false;
    this.#resBody?.resume();
  };

  onDeadline(): void {
    if (this.#wait === Wait.Headers) {
      this.#opts.logger.debug('request head timeout', { remote: this.#info.remoteAddress });
      this.deadline = 0;
      this.#writeLocalAndClose(408, `request head not received within ${this.#opts.headersTimeoutMs}ms`);
    } else if (this.#wait === Wait.Idle) {
      this.destroy();
    } else {
      this.#socket.destroy();
    }
  }

  // --- parser events ---

  onRequestHead(head: ParsedRequestHead): void {
    this.deadline = 0;
    const opts = this.#opts;
    const exchange = new Exchange(this.#info, opts.clock.monotonic());
    let body: Body = EMPTY_BODY;
    if (head.chunked || head.contentLength > 0) {
      const bodyOpts: PushBodyOptions = { size: head.chunked ? undefined : head.contentLength, source: this };
      body = head.expectContinue ? new ContinueBody(bodyOpts, this.#sendContinue) : new PushBody(bodyOpts);
      this.#reqBody = body as PushBody;
    }
    const request: ProxyRequest = {
      method: head.method,
      scheme: head.targetScheme ?? (this.#info.tls ? 'https' : 'http'),
      authority: head.authority,
      path: head.path,
      version: head.minorVersion === 1 ? '1.1' : '1.0',
      headers: head.headers,
      body,
      absoluteForm: head.absoluteForm,
      upgrade: head.upgrade,
    };
    this.#exchange = exchange;
    this.#head = head;
    this.#request = request;
    this.#requestComplete = false;
    this.#requestBytes = 0;
    this.#responseStarted = false;
    this.#continueSent = false;
    this.#status = undefined;
    if (head.method === 'CONNECT' && !opts.allowConnect) {
      this.#onResponse(
        localReply({
          status: 405,
          body: 'CONNECT is not enabled on this listener\n',
          reason: `DPE CONNECT to ${JSON.stringify(head.authority)} refused: tunnelling is not enabled on this listener`,
          headers: { allow: 'GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH' },
        }),
      );
      return;
    }
    let pending: Promise<ProxyResponse>;
    try {
      pending = opts.handler(request, exchange);
    } catch (e) {
      pending = Promise.reject(e);
    }
    pending.then(this.#onResponseSafe, this.#onHandlerError);
  }

  onBody(chunk: Buffer): void {
    this.#requestBytes += chunk.length;
    this.#reqBody?.push(chunk);
  }

  onMessageEnd(trailers: HeaderList | undefined): void {
    this.#requestComplete = true;
    this.#reqBody?.end(trailers);
    if (this.#bodyPaused) {
      this.#bodyPaused = false;
      this.#updateReading();
    }
  }

  // --- request body source ---

  pause(): void {
    if (this.#requestComplete) return;
    this.#bodyPaused = true;
    this.#updateReading();
  }

  resume(): void {
    if (!this.#bodyPaused) return;
    this.#bodyPaused = false;
    this.#updateReading();
  }

  cancel(): void {
    // The reader gave up on the request body: keep reading (and dropping) it so the client can still read
    // the response; unless it is all read by then, the connection closes after the response.
    this.#bodyPaused = false;
    this.#updateReading();
  }

  #sendContinue = (): void => {
    if (this.#responseStarted || this.#continueSent || this.#closing || this.#requestComplete) return;
    this.#continueSent = true;
    this.#socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
  };

  // --- response ---

  #onResponseSafe = (res: ProxyResponse): void => {
    try {
      this.#onResponse(res);
    } catch (e) {
      this.#opts.logger.error('writing a response failed', { error: errorMessage(e) });
      this.destroy();
    }
  };

  #onResponse = (res: ProxyResponse): void => {
    if (this.#closed || this.#closing || this.#exchange === undefined || this.#exchange.aborted) {
      res.body.cancel(downstreamDisconnected('the response arrived after the connection closed'));
      res.tunnel?.destroy();
      return;
    }
    const req = this.#request!;
    const head = this.#head!;
    const status = res.status;
    if (status === 101 || (req.method === 'CONNECT' && status >= 200 && status < 300)) {
      if (res.tunnel !== undefined && (req.upgrade !== undefined || req.method === 'CONNECT')) {
        this.#startTunnel(res);
        return;
      }
      res.tunnel?.destroy();
      res.body.cancel();
      this.#onResponse(
        localReply({
          status: 502,
          body: 'upstream switched protocols unasked\n',
          reason: 'UPE 101 without a tunnel',
        }),
      );
      return;
    }
    if (!Number.isInteger(status) || status < 200 || status > 999) {
      res.body.cancel();
      this.#onResponse(
        localReply({
          status: 502,
          body: 'invalid response status\n',
          reason: `UPE invalid final status ${status}`,
        }),
      );
      return;
    }
    this.#status = status;
    const isHead = req.method === 'HEAD';
    const body = res.body;
    const noBody = isHead || status === 204 || status === 304;
    let framing: Framing;
    const size = body.size;
    if (noBody) framing = Framing.None;
    else if (size !== undefined) framing = Framing.Length;
    else if (head.minorVersion === 1) framing = Framing.Chunked;
    else framing = Framing.Close;
    // A body the client holds back for 100 Continue, or that nobody will read, will not be consumed: say so.
    const bodyLeftUnread =
      !this.#requestComplete &&
      ((head.expectContinue && !this.#continueSent) || this.#reqBody?.cancelled === true);
    const keepAlive =
      head.keepAlive && framing !== Framing.Close && !this.#draining && !this.#readEnded && !bodyLeftUnread;
    this.#keepAlive = keepAlive;
    this.#framing = framing;
    this.#resLength = size ?? 0;
    this.#resWritten = 0;
    const socket = this.#socket;
    socket.cork();
    socket.write(
      serializeResponseHead({
        status,
        headers: res.headers,
        framing,
        length: size ?? 0,
        close: !keepAlive,
        keepAliveHeader: keepAlive && head.minorVersion === 0,
        upgrade: undefined,
        passContentLength: noBody && (isHead || status === 304),
      }),
      'latin1',
    );
    this.#responseStarted = true;
    if (framing === Framing.None) {
      if (body !== EMPTY_BODY) body.cancel();
      this.#responseComplete();
    } else {
      this.#resBody = body;
      body.read(this);
    }
    socket.uncork();
  };

  #onHandlerError = (err: unknown): void => {
    if (this.#closed || this.#closing || this.#exchange === undefined) return;
    if (isTrellisError(err, 'HTTP_EXCHANGE_RESET')) {
      this.#opts.logger.debug('exchange reset by handler', { reason: errorMessage(err) });
      this.#finishOutcome(err as Error);
      this.destroy();
      return;
    }
    this.#opts.logger.warn('handler failed', { error: errorMessage(err), path: this.#request?.path });
    this.#onResponse(
      localReply({ status: 500, body: 'internal error\n', reason: `internal error: ${errorMessage(err)}` }),
    );
  };

  // response body sink
  onData(chunk: Buffer): boolean {
    const socket = this.#socket;
    const n = chunk.length;
    this.#resWritten += n;
    let ok: boolean;
    if (this.#framing === Framing.Chunked) {
      socket.cork();
      socket.write(chunkHeader(n), 'latin1');
      socket.write(chunk);
      ok = socket.write('\r\n', 'latin1');
      socket.uncork();
    } else {
      if (this.#framing === Framing.Length && this.#resWritten > this.#resLength) {
        this.#framingBroken(`the response body is longer than its declared ${this.#resLength} bytes`);
        return false;
      }
      ok = socket.write(chunk);
    }
    if (!ok) this.#waitingDrain = true;
    return ok;
  }

  onEnd(trailers: HeaderList | undefined): void {
    if (this.#framing === Framing.Length && this.#resWritten !== this.#resLength) {
      this.#framingBroken(`the response body ended after ${this.#resWritten} of ${this.#resLength} bytes`);
      return;
    }
    if (this.#framing === Framing.Chunked) this.#socket.write(lastChunk(trailers), 'latin1');
    this.#responseComplete();
  }

  onError(err: Error): void {
    this.#opts.logger.debug('response body failed; closing the downstream connection', {
      error: err.message,
    });
    this.#finishOutcome(err);
    this.destroy();
  }

  #framingBroken(message: string): void {
    this.#opts.logger.warn('response framing mismatch; closing the downstream connection', {
      reason: message,
    });
    this.#resBody?.cancel();
    this.#finishOutcome(new Error(message));
    this.destroy();
  }

  #responseComplete(): void {
    this.#resBody = undefined;
    this.#finishOutcome(undefined);
    // Only a fully read request leaves the connection at a message boundary.
    const keepAlive = this.#keepAlive && this.#requestComplete;
    this.#clearExchange();
    if (!keepAlive || this.#closing) {
      this.#closeGracefully();
      return;
    }
    this.#pipelinePaused = false;
    this.#setWait(Wait.Idle);
    this.#updateReading();
    if (!this.#parser.resume()) {
      this.#protocolError(this.#parser.error!);
      return;
    }
    if (this.#exchange === undefined && this.#parser.idle && (this.#readEnded || this.#draining)) {
      this.#closeGracefully();
    }
  }

  #clearExchange(): void {
    this.#exchange = undefined;
    this.#head = undefined;
    this.#request = undefined;
    this.#reqBody = undefined;
    this.#responseStarted = false;
    this.#bodyPaused = false;
  }

  #finishOutcome(error: Error | undefined): void {
    const hook = this.#opts.onExchangeComplete;
    if (hook === undefined || this.#exchange === undefined) return;
    hook({
      request: this.#request!,
      status: this.#status,
      requestBytes: this.#requestBytes,
      responseBytes: this.#resWritten,
      error,
      receivedAt: this.#exchange.receivedAt,
      completedAt: this.#opts.clock.monotonic(),
    });
  }

  #abortExchange(detail: string): void {
    const exchange = this.#exchange;
    if (exchange === undefined) return;
    const reason = downstreamDisconnected(detail);
    exchange.abort(reason);
    if (!this.#requestComplete) this.#reqBody?.fail(reason);
    this.#resBody?.cancel(reason);
    this.#finishOutcome(reason);
    this.#clearExchange();
    this.#socket.destroy();
  }

  #startTunnel(res: ProxyResponse): void {
    const socket = this.#socket;
    const tunnel = res.tunnel!;
    const req = this.#request!;
    this.#status = res.status;
    this.deadline = 0;
    this.#opts.sweeper.delete(this);
    socket.write(
      serializeResponseHead({
        status: res.status,
        headers: res.headers,
        framing: Framing.None,
        length: 0,
        close: false,
        keepAliveHeader: false,
        upgrade: res.status === 101 ? (res.upgrade ?? req.upgrade ?? '') : undefined,
        passContentLength: false,
      }),
      'latin1',
    );
    res.body.cancel();
    const rest = this.#parser.takeRemainder();
    this.#finishOutcome(undefined);
    this.#clearExchange();
    this.#closing = true;
    socket.removeListener('data', this.#onData);
    socket.removeListener('end', this.#onEnd);
    socket.removeListener('drain', this.#onDrain);
    if (rest !== undefined) tunnel.write(rest);
    tunnel.on('error', () => socket.destroy());
    socket.on('error', () => tunnel.destroy());
    tunnel.on('close', () => socket.destroySoon());
    socket.on('close', () => tunnel.destroy());
    socket.pipe(tunnel);
    tunnel.pipe(socket);
    if (this.#socketPaused) socket.resume();
  }

  // --- errors, timeouts, closing ---

  #protocolError(err: HttpParseError): void {
    this.#opts.logger.debug('downstream protocol error', {
      error: err.message,
      remote: this.#info.remoteAddress,
    });
    if (this.#exchange !== undefined) {
      const exchange = this.#exchange;
      exchange.abort(downstreamDisconnected(`protocol error: ${err.message}`));
      if (!this.#requestComplete) this.#reqBody?.fail(err);
      if (this.#responseStarted) {
        this.#resBody?.cancel(err);
        this.#finishOutcome(err);
        this.#clearExchange();
        this.destroy();
        return;
      }
      this.#finishOutcome(err);
      this.#clearExchange();
    }
    this.#writeLocalAndClose(err.status, err.message);
  }

  /** Writes a small local reply with `connection: close`, then closes. Only when no response is under way. */
  #writeLocalAndClose(status: number, message: string): void {
    if (this.#closing || this.#closed) return;
    const body = `${message}\n`;
    const reply = localReply({ status, body, reason: `DPE ${message}` });
    this.#socket.write(
      serializeResponseHead({
        status,
        headers: reply.headers,
        framing: Framing.Length,
        length: Buffer.byteLength(body),
        close: true,
        keepAliveHeader: false,
        upgrade: undefined,
        passContentLength: false,
      }) + body,
      'latin1',
    );
    this.#closeGracefully();
  }

  /** Half-closes after the last response and destroys once the client closed or `delayedCloseMs` passed. */
  #closeGracefully(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#parser.pause();
    this.#socket.end();
    this.#bodyPaused = false;
    this.#pipelinePaused = false;
    this.#updateReading();
    this.#setWait(Wait.Linger);
  }

  /** Stops keep-alive: closes now if idle, else after the exchange in flight. */
  drain(): void {
    this.#draining = true;
    if (this.#exchange === undefined && this.#parser.idle) this.#closeGracefully();
  }

  destroy(): void {
    this.#closing = true;
    this.#socket.destroy();
  }

  #setWait(wait: Wait): void {
    this.#wait = wait;
    const now = this.#opts.clock.monotonic();
    if (wait === Wait.Idle) this.deadline = now + this.#opts.idleTimeoutMs;
    else if (wait === Wait.Headers) this.deadline = now + this.#opts.headersTimeoutMs;
    else this.deadline = now + this.#opts.delayedCloseMs;
  }

  #updateReading(): void {
    const pause = !this.#closing && (this.#bodyPaused || this.#pipelinePaused);
    if (pause === this.#socketPaused) return;
    this.#socketPaused = pause;
    if (pause) this.#socket.pause();
    else this.#socket.resume();
  }
}
