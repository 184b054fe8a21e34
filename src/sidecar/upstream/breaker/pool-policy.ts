// The hook a connection pool asks before opening a connection: `max_connections` with Envoy's semantics.

import type { BreakerCounters, ResourceManager } from './circuit-breakers.js';

/** What a pool reports about itself when it asks. */
export interface PoolCounters {
  active: number;
  idle: number;
  connecting: number;
  pending: number;
}

export interface ConnectionPolicy {
  /** May the pool open one more connection now? */
  mayOpenConnection(pool: PoolCounters): boolean;
  /** The pool opened a connection (counted against `max_connections` until closed). */
  connectionOpened(): void;
  connectionClosed(): void;
}

/**
 * Envoy's rule: over `max_connections` a pool counts `upstream_cx_overflow` and does not connect,
 * except that a pool with no connection at all still gets one, so its queued requests cannot starve
 * behind other hosts' connections. The requests then wait in the pending queue.
 */
export function breakerConnectionPolicy(
  resources: ResourceManager,
  counters: BreakerCounters,
): ConnectionPolicy {
  return {
    mayOpenConnection(pool) {
      if (resources.connections.canCreate()) return true;
      counters.upstream_cx_overflow++;
      return pool.active + pool.idle + pool.connecting === 0;
    },
    connectionOpened() {
      resources.connections.inc();
    },
    connectionClosed() {
      resources.connections.dec();
    },
  };
}

/** The policy of a cluster without limits (Istio's default thresholds behave the same). */
export const UNLIMITED_CONNECTIONS: ConnectionPolicy = {
  mayOpenConnection: () => true,
  connectionOpened() {},
  connectionClosed() {},
};
