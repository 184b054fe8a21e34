// A keep-alive HTTP/1.1 connection pool for one upstream endpoint: LIFO reuse, growth to demand, stale retry.

import type { ConnectionOptions } from 'node:tls';
import { type Clock, systemClock } from '../../../shared/clock.js';
import { errorMessage } from '../../../shared/errors.js';
import { type Logger, silentLogger } from '../../../shared/log.js';
import { type Body, EMPTY_BODY } from '../../http/body.js';
import type { CancelSignal } from '../../http/cancel.js';
import { DeadlineSweeper } from '../../http/deadlines.js';
import type { H1Limits } from '../../http/h1/parser.js';
import type { ProxyRequest, ProxyResponse } from '../../http/message.js';
import { IDEMPOTENT_METHODS } from '../../http/tokens.js';
import { Attempt } from './attempt.js';
import { connectEndpoint, type Endpoint, endpointName } from './connect.js';
import { abortError, UpstreamError } from './errors.js';
import { H1ClientConnection, type H1ConnectionOwner } from './h1-connection.js';
import { type PoolPolicy, type PoolStats, UNLIMITED_POLICY } from './policy.js';

export interface Http1PoolOptions {
  endpoint: Endpoint;
  /** TLS client options from the caller (mTLS certificates, SNI, ALPN); plain TCP when absent. */
  tls?: ConnectionOptions;
  /** Hard cap on this pool's connections (default unlimited; cluster-wide limits go through `policy`). */
  maxConnections?: number;
  /** Close a connection after this many requests (Envoy's max_requests_per_connection; default unlimited). */
  maxRequestsPerConnection?: number;
  /** Close connections idle for this long (default 1 h, Envoy's common_http_protocol_options.idle_timeout). */
  idleTimeoutMs?: number;
  /** TCP connect plus TLS handshake (default 10 s, Istio's connectTimeout). */
  connectTimeoutMs?: number;
  /** TCP keep-alive probes on upstream sockets (default off). */
  tcpKeepAliveMs?: number;
  /** Source address of upstream connections (upstream_bind_config); the kernel picks when absent. */
  localAddress?: string;
  policy?: PoolPolicy;
  limits?: Partial<H1Limits>;
  clock?: Clock;
  logger?: Logger;
  sweeper?: DeadlineSweeper;
}

/** Per-request options. */
export interface PoolRequestOptions {
  /**
   * Aborting it abandons the exchange: before the response head the promise rejects, after it the response
   * body fails; either way the connection is closed, never reused. Abort with a `TimeoutError` reason
   * (`AbortSignal.timeout(...)`, or `cancellation.abort(new DOMException(msg, 'TimeoutError'))`) to get
   * UPSTREAM_REQUEST_TIMEOUT (UT); the downstream's `ctx.signal` gives UPSTREAM_DOWNSTREAM_GONE (DC); any
   * other reason is UPSTREAM_LOCAL_RESET (LR). A Cancellation costs far less per request than an AbortSignal.
   */
  signal?: CancelSignal;
}

/** The interface every upstream pool offers the router (HTTP/1.1 and HTTP/2 alike). */
export interface UpstreamPool {
  request(req: ProxyRequest, opts?: PoolRequestOptions): Promise<ProxyResponse>;
  readonly stats: PoolStats;
  /** Re-checks pending requests against the policy (call after a connection slot freed up elsewhere). */
  wake(): void;
  /** Stops taking requests; idle connections close now, busy ones after their exchange. */
  close(): void;
  /** Closes everything now; pending and in-flight requests fail with UPSTREAM_LOCAL_RESET. */
  destroy(): void;
}

/**
 * A request that failed on a reused connection before any response byte may be re-sent once on a fresh
 * connection: that is the race with an upstream closing an idle keep-alive connection. It is re-sent when the
 * method is idempotent and its body (if any) can be replayed, or when the caller made the body replayable
 * (`makeReplayable`, a buffer) and so accepts a second delivery.
 */
export function staleRetryBody(req: ProxyRequest): Body | undefined {
  const body = req.body;
  const empty = body === EMPTY_BODY || body.size === 0;
  if (empty) return IDEMPOTENT_METHODS.has(req.method) ? body.replay() : undefined;
  return body.replayable ? body.replay() : undefined;
}

export class Http1Pool implements UpstreamPool, H1ConnectionOwner {
  readonly endpoint: Endpoint;
  readonly endpointName: string;
  readonly maxRequestsPerConnection: number;
  #opts: Http1PoolOptions;
  #policy: PoolPolicy;
  #clock: Clock;
  #logger: Logger;
  #sweeper: DeadlineSweeper;
  #idleTimeoutMs: number;
  #maxConnections: number;
  #idle: H1ClientConnection[] = [];
  #all = new Set<H1ClientConnection>();
  #pending: Attempt[] = [];
  #connecting = 0;
  #closing = false;
  #stats: PoolStats;

  constructor(opts: Http1PoolOptions) {
    this.endpoint = opts.endpoint;
    this.endpointName = endpointName(opts.endpoint);
    this.maxRequestsPerConnection = opts.maxRequestsPerConnection || Number.POSITIVE_INFINITY;
    this.#opts = opts;
    this.#policy = opts.policy ?? UNLIMITED_POLICY;
    this.#clock = opts.clock ?? systemClock;
    this.#logger = opts.logger ?? silentLogger;
    this.#sweeper = opts.sweeper ?? new DeadlineSweeper({ clock: this.#clock });
    this.#idleTimeoutMs = opts.idleTimeoutMs ?? 3_600_000;
    this.#maxConnections = opts.maxConnections ?? Number.POSITIVE_INFINITY;
    const pool = this;
    this.#stats = {
      get active() {
        return pool.#all.size - pool.#idle.length;
      },
      get idle() {
        return pool.#idle.length;
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

  get closing(): boolean {
    return this.#closing;
  }

  request(req: ProxyRequest, opts?: PoolRequestOptions): Promise<ProxyResponse> {
    const attempt = new Attempt(req, opts?.signal);
    if (this.#closing) {
      attempt.reject(this.#closedError());
      return attempt.promise;
    }
    if (attempt.signal?.aborted) {
      attempt.reject(abortError(this.endpointName, attempt.signal.reason, false));
      return attempt.promise;
    }
    const conn = this.#takeIdle();
    if (conn !== undefined) {
      conn.start(attempt);
      return attempt.promise;
    }
    this.#enqueue(attempt);
    this.#grow();
    return attempt.promise;
  }

  wake(): void {
    this.#grow();
  }

  close(): void {
    this.#closing = true;
    for (const attempt of this.#pending.splice(0)) attempt.reject(this.#closedError());
    for (const conn of this.#idle.splice(0)) conn.close();
  }

  destroy(): void {
    this.close();
    for (const conn of [...this.#all]) conn.close();
  }

  // --- H1ConnectionOwner ---

  released(conn: H1ClientConnection): void {
    const pending = this.#pending;
    for (let i = 0; i < pending.length; ) {
      const next = pending[i]!;
      if (next.settled) {
        pending.splice(i, 1);
        continue;
      }
      // A stale-connection retry waits for a connection that has carried nothing yet.
      if (next.retried && conn.requests > 0) {
        i++;
        continue;
      }
      pending.splice(i, 1);
      conn.start(next);
      return;
    }
    conn.deadline = this.#clock.monotonic() + this.#idleTimeoutMs;
    this.#idle.push(conn);
  }

  closed(conn: H1ClientConnection): void {
    if (!this.#all.delete(conn)) return;
    this.#sweeper.delete(conn);
    const i = this.#idle.indexOf(conn);
    if (i !== -1) this.#idle.splice(i, 1);
    this.#policy.onConnectionClosed?.();
    this.#grow();
  }

  detached(conn: H1ClientConnection): void {
    this.closed(conn);
  }

  failedBeforeResponse(
    _conn: H1ClientConnection,
    attempt: Attempt,
    err: UpstreamError,
    stale: boolean,
  ): void {
    if (stale && !attempt.retried && !this.#closing) {
      const body = staleRetryBody(attempt.req);
      if (body !== undefined) {
        this.#logger.debug('retrying on a fresh connection after a stale pooled one failed', {
          endpoint: this.endpointName,
          error: err.message,
        });
        if (body !== attempt.req.body) attempt.req.body.cancel(err);
        attempt.retried = true;
        attempt.req = { ...attempt.req, body };
        // Other idle connections are as old as the one that failed: start fresh.
        this.#pending.unshift(attempt);
        this.#open(true);
        return;
      }
    }
    attempt.req.body.cancel(err);
    attempt.reject(err);
  }

  // --- internals ---

  #takeIdle(): H1ClientConnection | undefined {
    for (;;) {
      const conn = this.#idle.pop();
      if (conn === undefined) return undefined;
      // A socket the upstream already closed is found here rather than by a failed request.
      if (!conn.closed && !conn.socket.destroyed && conn.socket.readable) return conn;
      conn.close();
    }
  }

  #enqueue(attempt: Attempt): void {
    this.#pending.push(attempt);
    const signal = attempt.signal;
    if (signal === undefined) return;
    const onAbort = () => {
      const i = this.#pending.indexOf(attempt);
      if (i === -1) return;
      this.#pending.splice(i, 1);
      attempt.reject(abortError(this.endpointName, signal.reason, false));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    attempt.promise.then(
      () => signal.removeEventListener('abort', onAbort),
      () => signal.removeEventListener('abort', onAbort),
    );
  }

  /** Opens connections while requests wait for more than are already on their way. */
  #grow(): void {
    while (this.#pending.length > this.#connecting && !this.#closing) {
      if (!this.#open(false)) break;
    }
  }

  #open(force: boolean): boolean {
    if (this.#closing) return false;
    if (!force || this.#all.size + this.#connecting >= this.#maxConnections) {
      if (this.#all.size + this.#connecting >= this.#maxConnections) return false;
      if (!this.#policy.mayOpenConnection(this.#stats)) return false;
    }
    this.#connecting++;
    connectEndpoint({
      endpoint: this.endpoint,
      tls: this.#opts.tls,
      timeoutMs: this.#opts.connectTimeoutMs ?? 10_000,
      clock: this.#clock,
      tcpKeepAliveMs: this.#opts.tcpKeepAliveMs,
      localAddress: this.#opts.localAddress,
    }).then(
      (socket) => {
        this.#connecting--;
        const conn = new H1ClientConnection(this, socket, this.#opts.limits);
        this.#all.add(conn);
        this.#sweeper.add(conn);
        this.#policy.onConnectionOpened?.();
        if (this.#closing) {
          conn.close();
          return;
        }
        this.released(conn);
      },
      (err: unknown) => {
        this.#connecting--;
        this.#logger.debug('upstream connect failed', {
          endpoint: this.endpointName,
          error: errorMessage(err),
        });
        // One failed connect fails one waiting request; the others keep their own connects.
        while (this.#pending.length > this.#connecting) {
          const attempt = this.#pending.shift()!;
          if (attempt.settled) continue;
          attempt.req.body.cancel(err as Error);
          attempt.reject(err as Error);
          break;
        }
      },
    );
    return true;
  }

  #closedError(): UpstreamError {
    return new UpstreamError({
      code: 'UPSTREAM_LOCAL_RESET',
      flag: 'LR',
      endpoint: this.endpointName,
      message: `the connection pool for ${this.endpointName} is closed`,
    });
  }
}
