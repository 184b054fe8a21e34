// A cluster's circuit breakers: resources per routing priority and the overflow counters Envoy keeps.

import { ResourceLimit } from './resource.js';
import {
  type CircuitBreakerThresholds,
  ENVOY_DEFAULT_THRESHOLDS,
  type RoutingPriority,
  type ThresholdsByPriority,
} from './thresholds.js';

export interface ResourceManager {
  readonly connections: ResourceLimit;
  readonly pendingRequests: ResourceLimit;
  readonly requests: ResourceLimit;
  readonly retries: ResourceLimit;
  readonly connectionPools: ResourceLimit;
}

/** Counters with Envoy's names (`cluster.<name>.<counter>`). */
export interface BreakerCounters {
  upstream_rq_pending_overflow: number;
  upstream_cx_overflow: number;
  upstream_rq_retry_overflow: number;
  upstream_cx_pool_overflow: number;
  upstream_rq_pending_total: number;
}

export interface CircuitBreakersOptions {
  cluster: string;
  thresholds?: Partial<ThresholdsByPriority>;
}

export class ClusterCircuitBreakers {
  readonly cluster: string;
  readonly counters: BreakerCounters = {
    upstream_rq_pending_overflow: 0,
    upstream_cx_overflow: 0,
    upstream_rq_retry_overflow: 0,
    upstream_cx_pool_overflow: 0,
    upstream_rq_pending_total: 0,
  };
  readonly #byPriority: Record<RoutingPriority, ResourceManager>;

  constructor(opts: CircuitBreakersOptions) {
    this.cluster = opts.cluster;
    this.#byPriority = {
      DEFAULT: makeResources(opts.thresholds?.DEFAULT ?? ENVOY_DEFAULT_THRESHOLDS),
      HIGH: makeResources(opts.thresholds?.HIGH ?? ENVOY_DEFAULT_THRESHOLDS),
    };
  }

  resources(priority: RoutingPriority = 'DEFAULT'): ResourceManager {
    return this.#byPriority[priority];
  }

  /** A CDS update changes limits without forgetting what is in flight. */
  updateThresholds(thresholds: Partial<ThresholdsByPriority>): void {
    for (const p of ['DEFAULT', 'HIGH'] as const) {
      const t = thresholds[p] ?? ENVOY_DEFAULT_THRESHOLDS;
      const r = this.#byPriority[p];
      r.connections.max = t.maxConnections;
      r.pendingRequests.max = t.maxPendingRequests;
      r.requests.max = t.maxRequests;
      r.retries.max = t.maxRetries;
      r.connectionPools.max = t.maxConnectionPools;
    }
  }

  /**
   * Admits a request to the cluster (`max_requests`). Call it when the request is attached to a
   * connection (after any wait in the pending queue), as Envoy's pool does: waiting requests do not
   * count. On overflow it counts `upstream_rq_pending_overflow` (Envoy's name for it too) and returns
   * false: reply 503 with flag UO. On success the caller must call `requestFinished` once.
   */
  tryStartRequest(priority: RoutingPriority = 'DEFAULT'): boolean {
    if (this.#byPriority[priority].requests.tryAcquire()) return true;
    this.counters.upstream_rq_pending_overflow++;
    return false;
  }

  requestFinished(priority: RoutingPriority = 'DEFAULT'): void {
    this.#byPriority[priority].requests.dec();
  }

  /**
   * Admits one retry (`max_retries`). On overflow it counts `upstream_rq_retry_overflow` and the
   * router gives up retrying (it returns the last upstream answer). Call `retryFinished` once after.
   */
  tryStartRetry(priority: RoutingPriority = 'DEFAULT'): boolean {
    if (this.#byPriority[priority].retries.tryAcquire()) return true;
    this.counters.upstream_rq_retry_overflow++;
    return false;
  }

  retryFinished(priority: RoutingPriority = 'DEFAULT'): void {
    this.#byPriority[priority].retries.dec();
  }

  /** One pool per host and protocol (`max_connection_pools`); overflow fails the request with UO. */
  tryCreatePool(priority: RoutingPriority = 'DEFAULT'): boolean {
    if (this.#byPriority[priority].connectionPools.tryAcquire()) return true;
    this.counters.upstream_cx_pool_overflow++;
    return false;
  }

  poolDestroyed(priority: RoutingPriority = 'DEFAULT'): void {
    this.#byPriority[priority].connectionPools.dec();
  }

  /**
   * Envoy's gauges: `circuit_breakers.<priority>.{cx_open,rq_pending_open,rq_open,rq_retry_open,
   * cx_pool_open}` and `remaining_{cx,pending,rq,retries,cx_pools}`.
   */
  gauges(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const p of ['DEFAULT', 'HIGH'] as const) {
      const r = this.#byPriority[p];
      const prefix = `circuit_breakers.${p.toLowerCase()}.`;
      out[`${prefix}cx_open`] = r.connections.open ? 1 : 0;
      out[`${prefix}rq_pending_open`] = r.pendingRequests.open ? 1 : 0;
      out[`${prefix}rq_open`] = r.requests.open ? 1 : 0;
      out[`${prefix}rq_retry_open`] = r.retries.open ? 1 : 0;
      out[`${prefix}cx_pool_open`] = r.connectionPools.open ? 1 : 0;
      out[`${prefix}remaining_cx`] = r.connections.remaining;
      out[`${prefix}remaining_pending`] = r.pendingRequests.remaining;
      out[`${prefix}remaining_rq`] = r.requests.remaining;
      out[`${prefix}remaining_retries`] = r.retries.remaining;
      out[`${prefix}remaining_cx_pools`] = r.connectionPools.remaining;
    }
    return out;
  }
}

function makeResources(t: Readonly<CircuitBreakerThresholds>): ResourceManager {
  return {
    connections: new ResourceLimit(t.maxConnections),
    pendingRequests: new ResourceLimit(t.maxPendingRequests),
    requests: new ResourceLimit(t.maxRequests),
    retries: new ResourceLimit(t.maxRetries),
    connectionPools: new ResourceLimit(t.maxConnectionPools),
  };
}
