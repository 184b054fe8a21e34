// One pooled upstream HTTP/1.1 connection: writes a request, parses the response, reports how it ended.

import type { Socket } from 'node:net';
import { type Body, type BodySink, type BodySource, EMPTY_BODY, PushBody } from '../../http/body.js';
import type { DeadlineHolder } from '../../http/deadlines.js';
import type { HttpParseError } from '../../http/h1/errors.js';
import type { ParsedResponseHead } from '../../http/h1/head.js';
import { type H1Limits, H1Parser } from '../../http/h1/parser.js';
import {
  chunkHeader,
  Framing,
  lastChunk,
  requestLineProblem,
  serializeRequestHead,
} from '../../http/h1/serializer.js';
import type { HeaderList } from '../../http/headers.js';
import type { ProxyResponse } from '../../http/message.js';
import type { Attempt } from './attempt.js';
import { abortError, UpstreamError } from './errors.js';

/** What a connection reports to the pool that owns it. */
export interface H1ConnectionOwner {
  readonly endpointName: string;
  readonly maxRequestsPerConnection: number;
  readonly closing: boolean;
  /** The exchange finished and the connection sits at a message boundary, reading, ready for another. */
  released(conn: H1ClientConnection): void;
  /** The socket is gone. */
  closed(conn: H1ClientConnection): void;
  /** The request failed before any response byte; `stale` when that happened on a reused connection. */
  failedBeforeResponse(conn: H1ClientConnection, attempt: Attempt, err: UpstreamError, stale: boolean): void;
  /** A 101 handed the socket to a tunnel; it no longer belongs to the pool. */
  detached(conn: H1ClientConnection): void;
}

/** Methods whose requests carry `content-length: 0` when their body is empty, as clients usually send. */
const BODY_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH']);

/**
 * The connection is the parser's event target, the request body's sink and the response body's source, so a
 * request allocates little beyond its own objects. It never goes back to the pool unless both messages are
 * complete and the socket is reading again (a socket paused by a slow client would hang the next request).
 */
export class H1ClientConnection implements DeadlineHolder, BodySink, BodySource {
  readonly socket: Socket;
  deadline = 0;
  /** Requests this connection carried, the current one included. */
  requests = 0;
  #owner: H1ConnectionOwner;
  #parser: H1Parser;
  #closed = false;
  #attempt: Attempt | undefined = undefined;
  #reqBody: Body | undefined = undefined;
  #reqFraming: Framing = Framing.None;
  #reqLength = 0;
  #reqWritten = 0;
  #requestDone = false;
  #resBody: PushBody | undefined = undefined;
  #responseStarted = false;
  #responseDone = false;
  #bytesReceived = 0;
  #keepAlive = false;
  #reused = false;
  #socketPaused = false;
  #waitingDrain = false;
  #abortListener: (() => void) | undefined = undefined;

  constructor(owner: H1ConnectionOwner, socket: Socket, limits: Partial<H1Limits> | undefined) {
    this.#owner = owner;
    this.socket = socket;
    this.#parser = new H1Parser('response', this, limits);
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onClose);
    socket.on('error', this.#onError);
    socket.on('drain', this.#onDrain);
  }

  get closed(): boolean {
    return this.#closed;
  }

  get busy(): boolean {
    return this.#attempt !== undefined;
  }

  /** Sends the attempt's request on this connection. */
  start(attempt: Attempt): void {
    const req = attempt.req;
    const path = req.path === '' ? req.authority : req.path;
    const problem = requestLineProblem(req.method, path, req.authority);
    if (problem !== undefined) {
      // Nothing was written: the connection is still clean and goes straight back.
      req.body.cancel();
      attempt.reject(
        new UpstreamError({
          code: 'UPSTREAM_LOCAL_RESET',
          flag: 'LR',
          endpoint: this.#owner.endpointName,
          message: `refusing to send an unsafe request to ${this.#owner.endpointName}: ${problem}`,
        }),
      );
      this.#owner.released(this);
      return;
    }
    this.deadline = 0;
    this.#attempt = attempt;
    this.#reused = this.requests > 0;
    this.requests++;
    this.#requestDone = false;
    this.#responseStarted = false;
    this.#responseDone = false;
    this.#bytesReceived = 0;
    this.#resBody = undefined;
    this.#reqWritten = 0;
    this.#parser.expectNoBody = req.method === 'HEAD';
    const body = req.body;
    const size = body.size;
    let framing: Framing;
    if (size === 0) framing = BODY_METHODS.has(req.method) ? Framing.Length : Framing.None;
    else if (size !== undefined) framing = Framing.Length;
    else framing = Framing.Chunked;
    this.#reqFraming = framing;
    this.#reqLength = size ?? 0;
    const last = this.requests >= this.#owner.maxRequestsPerConnection || this.#owner.closing;
    const signal = attempt.signal;
    if (signal !== undefined) {
      if (signal.aborted) {
        this.#abort(signal.reason);
        return;
      }
      this.#abortListener = () => this.#abort(signal.reason);
      signal.addEventListener('abort', this.#abortListener, { once: true });
    }
    const socket = this.socket;
    socket.cork();
    socket.write(
      serializeRequestHead({
        method: req.method,
        path,
        authority: req.authority,
        headers: req.headers,
        framing,
        length: this.#reqLength,
        close: last,
        upgrade: req.upgrade,
        teTrailers: req.headers.get('te') === 'trailers',
      }),
      'latin1',
    );
    if (framing === Framing.None && body === EMPTY_BODY) {
      this.#requestDone = true;
    } else {
      this.#reqBody = body;
      body.read(this);
    }
    socket.uncork();
  }

  /** Closes the socket (idle timeout, pool shutdown). */
  close(): void {
    this.socket.destroy();
  }

  onDeadline(): void {
    // Idle for longer than the pool's idle timeout.
    this.close();
  }

  // --- socket events ---

  #onData = (chunk: Buffer): void => {
    if (this.#attempt === undefined) {
      // Bytes nobody asked for: the connection is out of step, never reuse it.
      this.socket.destroy();
      return;
    }
    this.#bytesReceived += chunk.length;
    if (!this.#parser.execute(chunk)) this.#protocolError(this.#parser.error!);
  };

  #onEnd = (): void => {
    if (this.#attempt !== undefined && this.#responseStarted && this.#parser.readingUntilEof) {
      this.#parser.finish();
      return;
    }
    this.#fail('the upstream closed the connection');
  };

  #onError = (err: Error): void => {
    const code = (err as NodeJS.ErrnoException).code;
    this.#fail(`connection error ${code ?? err.message}`, err);
  };

  #onClose = (): void => {
    this.#fail('the connection closed');
    this.#closed = true;
    this.deadline = 0;
    this.#owner.closed(this);
  };

  #onDrain = (): void => {
    if (!this.#waitingDrain) return;
    this.#waitingDrain = false;
    this.#reqBody?.resume();
  };

  // --- request body sink ---

  onData(chunk: Buffer): boolean {
    if (this.#closed || this.#requestDone) return false;
    const socket = this.socket;
    const n = chunk.length;
    this.#reqWritten += n;
    let ok: boolean;
    if (this.#reqFraming === Framing.Chunked) {
      socket.cork();
      socket.write(chunkHeader(n), 'latin1');
      socket.write(chunk);
      ok = socket.write('\r\n', 'latin1');
      socket.uncork();
    } else {
      if (this.#reqWritten > this.#reqLength) {
        this.#localFailure(`request body longer than its declared ${this.#reqLength} bytes`);
        return false;
      }
      ok = socket.write(chunk);
    }
    if (!ok) this.#waitingDrain = true;
    return ok;
  }

  onEnd(trailers: HeaderList | undefined): void {
    if (this.#closed || this.#requestDone) return;
    if (this.#reqFraming === Framing.Chunked) {
      this.socket.write(lastChunk(trailers), 'latin1');
    } else if (this.#reqWritten !== this.#reqLength) {
      this.#localFailure(`request body ended after ${this.#reqWritten} of ${this.#reqLength} declared bytes`);
      return;
    }
    this.#requestDone = true;
    this.#reqBody = undefined;
    this.#maybeRelease();
  }

  onError(err: Error): void {
    // The downstream request body broke: the upstream request can never be completed.
    if (this.#requestDone) return;
    this.#reqBody = undefined;
    this.#fail(`the request body failed: ${err.message}`, err, true);
  }

  // --- response body source ---

  pause(): void {
    if (this.#socketPaused || this.#responseDone) return;
    this.#socketPaused = true;
    this.socket.pause();
  }

  resume(): void {
    if (!this.#socketPaused) return;
    this.#socketPaused = false;
    this.socket.resume();
  }

  cancel(reason: Error): void {
    // The reader walked away mid-response: the rest of the response is still on the wire, so this
    // connection can never be reused.
    if (this.#responseDone) return;
    this.#resBody = undefined;
    this.#fail(`the response reader cancelled: ${reason.message}`, reason, true);
  }

  // --- parser events ---

  onResponseHead(head: ParsedResponseHead): void {
    const attempt = this.#attempt!;
    this.#responseStarted = true;
    this.#keepAlive = head.keepAlive;
    if (head.status === 101) {
      if (attempt.req.upgrade === undefined) {
        this.#protocolErrorMessage('101 Switching Protocols without an upgrade request');
        return;
      }
      this.#detach(attempt, head);
      return;
    }
    const noBody =
      this.#parser.expectNoBody ||
      head.status === 204 ||
      head.status === 304 ||
      (!head.chunked && head.contentLength === 0);
    let body: Body = EMPTY_BODY;
    if (!noBody) {
      this.#resBody = new PushBody({
        size: head.chunked ? undefined : head.contentLength >= 0 ? head.contentLength : undefined,
        source: this,
      });
      body = this.#resBody;
    }
    const response: ProxyResponse = { status: head.status, headers: head.headers, body };
    attempt.resolve(response);
  }

  onBody(chunk: Buffer): void {
    this.#resBody?.push(chunk);
  }

  onMessageEnd(trailers: HeaderList | undefined): void {
    this.#responseDone = true;
    const body = this.#resBody;
    this.#resBody = undefined;
    if (this.#socketPaused) {
      this.#socketPaused = false;
      this.socket.resume();
    }
    body?.end(trailers);
    this.#maybeRelease();
  }

  // --- completion and failure ---

  #maybeRelease(): void {
    if (!this.#responseDone || this.#attempt === undefined) return;
    if (!this.#requestDone) {
      // The upstream answered before reading the whole request: stop sending, and the connection is no
      // longer at a message boundary.
      const body = this.#reqBody;
      this.#reqBody = undefined;
      this.#requestDone = true;
      this.#finishAttempt();
      body?.cancel();
      this.socket.destroy();
      return;
    }
    this.#finishAttempt();
    const reusable =
      this.#keepAlive &&
      !this.#closed &&
      !this.#owner.closing &&
      this.requests < this.#owner.maxRequestsPerConnection &&
      !this.#socketPaused;
    if (reusable) this.#owner.released(this);
    else this.socket.destroy();
  }

  #finishAttempt(): void {
    const attempt = this.#attempt;
    this.#attempt = undefined;
    if (attempt?.signal !== undefined && this.#abortListener !== undefined) {
      attempt.signal.removeEventListener('abort', this.#abortListener);
    }
    this.#abortListener = undefined;
  }

  #abort(reason: unknown): void {
    const attempt = this.#attempt;
    if (attempt === undefined) return;
    const err = abortError(this.#owner.endpointName, reason, this.#responseStarted);
    this.#finishAttempt();
    this.#reqBody?.cancel(err);
    this.#reqBody = undefined;
    if (this.#responseStarted) this.#resBody?.fail(err);
    else attempt.reject(err);
    this.#resBody = undefined;
    this.socket.destroy();
  }

  /** Something on our side broke the exchange (a lying body, a cancelled reader): reset, never retry. */
  #localFailure(message: string): void {
    this.#fail(message, undefined, true);
  }

  #protocolError(err: HttpParseError): void {
    this.#protocolErrorMessage(err.message, err);
  }

  #protocolErrorMessage(message: string, cause?: unknown): void {
    const attempt = this.#attempt;
    if (attempt === undefined) {
      this.socket.destroy();
      return;
    }
    const err = new UpstreamError({
      code: 'UPSTREAM_PROTOCOL_ERROR',
      flag: 'UPE',
      endpoint: this.#owner.endpointName,
      responseStarted: this.#responseStarted,
      message: `invalid response from ${this.#owner.endpointName}: ${message}`,
      cause,
    });
    this.#finishAttempt();
    this.#reqBody?.cancel(err);
    this.#reqBody = undefined;
    if (this.#resBody !== undefined) this.#resBody.fail(err);
    else attempt.reject(err);
    this.#resBody = undefined;
    this.socket.destroy();
  }

  /**
   * The exchange in flight (if any) failed. Before the response head, the pool hears about it and may
   * retry on a fresh connection; after it, the response body fails.
   */
  #fail(detail: string, cause?: unknown, local = false): void {
    const attempt = this.#attempt;
    if (attempt === undefined) {
      if (!this.#closed) this.socket.destroy();
      return;
    }
    const name = this.#owner.endpointName;
    this.#finishAttempt();
    const reqBody = this.#reqBody;
    this.#reqBody = undefined;
    if (this.#responseStarted) {
      const err = new UpstreamError({
        code: local ? 'UPSTREAM_LOCAL_RESET' : 'UPSTREAM_RESET_AFTER_RESPONSE_START',
        flag: local ? 'LR' : 'UC',
        endpoint: name,
        responseStarted: true,
        message: `response from ${name} broke off: ${detail}`,
        cause,
      });
      reqBody?.cancel(err);
      this.#resBody?.fail(err);
      this.#resBody = undefined;
    } else {
      const err = new UpstreamError({
        code: local ? 'UPSTREAM_LOCAL_RESET' : 'UPSTREAM_RESET_BEFORE_RESPONSE',
        flag: local ? 'LR' : 'UC',
        endpoint: name,
        message: `${name} reset before responding: ${detail}`,
        cause,
      });
      const stale = !local && this.#reused && this.#bytesReceived === 0;
      // The request body goes back to the pool's decision: a retry replays it, a failure cancels it.
      if (reqBody !== undefined && !stale) reqBody.cancel(err);
      if (local) attempt.reject(err);
      else this.#owner.failedBeforeResponse(this, attempt, err, stale);
    }
    if (!this.#closed) this.socket.destroy();
  }

  #detach(attempt: Attempt, head: ParsedResponseHead): void {
    this.#finishAttempt();
    const socket = this.socket;
    // Paused until its new owner pipes or resumes it: bytes arriving in between must not be emitted to nobody.
    socket.pause();
    socket.removeListener('data', this.#onData);
    socket.removeListener('end', this.#onEnd);
    socket.removeListener('close', this.#onClose);
    socket.removeListener('error', this.#onError);
    socket.removeListener('drain', this.#onDrain);
    this.#closed = true;
    this.#owner.detached(this);
    const rest = this.#parser.takeRemainder();
    if (rest !== undefined) socket.unshift(rest);
    attempt.resolve({
      status: 101,
      headers: head.headers,
      body: EMPTY_BODY,
      upgrade: head.upgrade,
      tunnel: socket,
    });
  }
}
