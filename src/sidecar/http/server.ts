// One entry point for a listener: picks HTTP/1.1, h2c (prior knowledge) or h2 (ALPN) for each socket it is given.

import type { Socket } from 'node:net';
import { type Clock, systemClock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import { DeadlineSweeper } from './deadlines.js';
import type { H1Limits } from './h1/parser.js';
import { Http1Server } from './h1/server.js';
import { Http2Server, type Http2ServerOptions } from './h2/server.js';
import type { ConnectionInfo, ExchangeOutcome, Handler } from './message.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export interface HttpServerOptions {
  handler: Handler;
  /** HTTP/1.1 limits (60 KiB head, 100 headers, 4 KiB chunk lines by default). */
  limits?: Partial<H1Limits>;
  /** Request head timeout (HTTP/1.1), default 60 s. */
  headersTimeoutMs?: number;
  /** Keep-alive / session idle timeout, default 1 h. */
  idleTimeoutMs?: number;
  allowConnect?: boolean;
  /** HTTP/2 settings beyond the shared ones. */
  http2?: Omit<Http2ServerOptions, 'handler' | 'clock' | 'logger' | 'onExchangeComplete' | 'allowConnect'>;
  onExchangeComplete?: (outcome: ExchangeOutcome) => void;
  clock?: Clock;
  logger?: Logger;
}

/**
 * Serves every HTTP version on sockets handed over by the listener. TLS sockets go by their negotiated ALPN
 * (`h2` or HTTP/1.x); plain sockets, and TLS sockets with another ALPN, are sniffed for the HTTP/2 preface.
 */
export class HttpServer {
  readonly http1: Http1Server;
  readonly http2: Http2Server;
  readonly #clock: Clock;
  readonly #sniffTimeoutMs: number;

  constructor(opts: HttpServerOptions) {
    this.#clock = opts.clock ?? systemClock;
    // A plain connection that never sends a byte is idle as far as the codecs are concerned.
    this.#sniffTimeoutMs = opts.idleTimeoutMs ?? 3_600_000;
    const sweeper = new DeadlineSweeper(opts.clock === undefined ? {} : { clock: opts.clock });
    this.http1 = new Http1Server({
      handler: opts.handler,
      ...(opts.limits && { limits: opts.limits }),
      ...(opts.headersTimeoutMs !== undefined && { headersTimeoutMs: opts.headersTimeoutMs }),
      ...(opts.idleTimeoutMs !== undefined && { idleTimeoutMs: opts.idleTimeoutMs }),
      ...(opts.allowConnect !== undefined && { allowConnect: opts.allowConnect }),
      ...(opts.onExchangeComplete && { onExchangeComplete: opts.onExchangeComplete }),
      ...(opts.clock && { clock: opts.clock }),
      ...(opts.logger && { logger: opts.logger }),
      sweeper,
    });
    this.http2 = new Http2Server({
      ...opts.http2,
      handler: opts.handler,
      ...(opts.idleTimeoutMs !== undefined && { idleTimeoutMs: opts.idleTimeoutMs }),
      ...(opts.allowConnect !== undefined && { allowConnect: opts.allowConnect }),
      ...(opts.onExchangeComplete && { onExchangeComplete: opts.onExchangeComplete }),
      ...(opts.clock && { clock: opts.clock }),
      ...(opts.logger && { logger: opts.logger }),
    });
  }

  serve(socket: Socket, info?: Partial<ConnectionInfo>): void {
    const tls = socket as Socket & { encrypted?: boolean; alpnProtocol?: string | false };
    if (tls.encrypted === true) {
      const alpn = tls.alpnProtocol;
      if (alpn === 'h2') {
        this.http2.serve(socket, info);
        return;
      }
      // Other ALPN values say nothing about the HTTP version (Istio's clients negotiate `istio-h2`,
      // `istio-http/1.1`, `istio`): as Envoy's AUTO codec, look for the HTTP/2 preface then.
      if (!alpn || alpn === 'http/1.1' || alpn === 'http/1.0') {
        this.http1.serve(socket, info);
        return;
      }
    }
    const timer = this.#clock.setTimeout(() => socket.destroy(), this.#sniffTimeoutMs);
    timer.unref?.();
    sniffPreface(socket, (isH2) => {
      this.#clock.clearTimeout(timer);
      if (isH2) {
        // node:http2 reads what is still buffered in the socket on its next tick: leave the socket paused.
        this.http2.serve(socket, info);
      } else {
        this.http1.serve(socket, info);
        socket.resume();
      }
    });
  }

  close(): void {
    this.http1.close();
    this.http2.close();
  }

  destroy(): void {
    this.http1.destroy();
    this.http2.destroy();
  }
}

/**
 * Reads until the bytes either match the 24-byte HTTP/2 preface or diverge from it (usually the first byte),
 * then puts them back for the chosen codec and pauses the socket.
 */
export function sniffPreface(socket: Socket, decide: (isH2: boolean) => void): void {
  let seen: Buffer | undefined;
  const onData = (chunk: Buffer) => {
    seen = seen === undefined ? chunk : Buffer.concat([seen, chunk]);
    const n = Math.min(seen.length, PREFACE.length);
    const matches = seen.subarray(0, n).equals(PREFACE.subarray(0, n));
    if (matches && seen.length < PREFACE.length) return;
    done(matches);
  };
  // The client left before saying anything: nothing to serve (the codec only sees the close).
  const onEnd = () => {
    socket.destroy();
    done(false);
  };
  const done = (isH2: boolean) => {
    socket.removeListener('data', onData);
    socket.removeListener('end', onEnd);
    socket.pause();
    if (seen !== undefined) socket.unshift(seen);
    decide(isH2);
  };
  socket.on('data', onData);
  socket.once('end', onEnd);
}
