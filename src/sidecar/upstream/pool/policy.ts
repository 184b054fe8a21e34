// The hooks a circuit breaker plugs into a pool: counters to read and a gate on opening connections.

/** A pool's live counters. */
export interface PoolStats {
  /** Connections carrying an exchange (HTTP/1.1) or at least one stream (HTTP/2). */
  readonly active: number;
  /** Connected and waiting in the idle list (HTTP/1.1), or sessions with no stream (HTTP/2). */
  readonly idle: number;
  /** Requests waiting for a connection or a stream slot. */
  readonly pending: number;
  /** Connections being opened (TCP connect + TLS handshake). */
  readonly connecting: number;
}

/**
 * Injected by the circuit-breaker layer. The pool asks before every new connection; a refusal leaves the
 * request pending until a connection of this pool frees up, it is aborted, or `pool.wake()` is called after
 * a slot opened elsewhere. Pending-queue limits are the caller's to enforce (read `stats.pending` first).
 */
export interface PoolPolicy {
  mayOpenConnection(stats: PoolStats): boolean;
  onConnectionOpened?(): void;
  onConnectionClosed?(): void;
}

/** No limits (Istio's defaults are 2^32-1 everywhere, which is the same thing). */
export const UNLIMITED_POLICY: PoolPolicy = Object.freeze({ mayOpenConnection: () => true });
