// Circuit breaker thresholds per routing priority, decoded from Envoy's `circuit_breakers` with its defaults.

import type { CircuitBreakers } from '../../../xds/gen/envoy/config/cluster/v3/circuit_breaker_pb.js';
import { RoutingPriority as ProtoRoutingPriority } from '../../../xds/gen/envoy/config/core/v3/base_pb.js';

/** Envoy's `RoutingPriority`: routes may ask for HIGH, which has its own thresholds and counters. */
export type RoutingPriority = 'DEFAULT' | 'HIGH';

export interface CircuitBreakerThresholds {
  /** Connections to all hosts of the cluster (HTTP/1.1 pools; 503 UO is never sent for this alone). */
  maxConnections: number;
  /** Requests waiting for a connection; beyond it requests fail at once with 503 UO. */
  maxPendingRequests: number;
  /** Requests in flight to the cluster; beyond it requests fail at once with 503 UO. */
  maxRequests: number;
  /** Retries in flight to the cluster; beyond it the retry is skipped (`upstream_rq_retry_overflow`). */
  maxRetries: number;
  /** Connection pools the cluster may create (one per host and protocol). */
  maxConnectionPools: number;
}

export const MAX_UINT32 = 4294967295;

/** Envoy's defaults when a threshold is not set. */
export const ENVOY_DEFAULT_THRESHOLDS: Readonly<CircuitBreakerThresholds> = Object.freeze({
  maxConnections: 1024,
  maxPendingRequests: 1024,
  maxRequests: 1024,
  maxRetries: 3,
  maxConnectionPools: MAX_UINT32,
});

/** What Istio emits for every cluster unless a DestinationRule lowers it: 2^32−1, effectively off. */
export const ISTIO_DEFAULT_THRESHOLDS: Readonly<CircuitBreakerThresholds> = Object.freeze({
  maxConnections: MAX_UINT32,
  maxPendingRequests: MAX_UINT32,
  maxRequests: MAX_UINT32,
  maxRetries: MAX_UINT32,
  maxConnectionPools: MAX_UINT32,
});

export type ThresholdsByPriority = Readonly<Record<RoutingPriority, Readonly<CircuitBreakerThresholds>>>;

/**
 * Decodes `Cluster.circuit_breakers`. Envoy applies the first `thresholds` entry of each priority;
 * a priority without an entry, or a field without a value, gets Envoy's default.
 */
export function thresholdsFromProto(cb: CircuitBreakers | undefined): ThresholdsByPriority {
  const pick = (priority: ProtoRoutingPriority): CircuitBreakerThresholds => {
    const t = cb?.thresholds.find((x) => x.priority === priority);
    return {
      maxConnections: t?.maxConnections ?? ENVOY_DEFAULT_THRESHOLDS.maxConnections,
      maxPendingRequests: t?.maxPendingRequests ?? ENVOY_DEFAULT_THRESHOLDS.maxPendingRequests,
      maxRequests: t?.maxRequests ?? ENVOY_DEFAULT_THRESHOLDS.maxRequests,
      maxRetries: t?.maxRetries ?? ENVOY_DEFAULT_THRESHOLDS.maxRetries,
      maxConnectionPools: t?.maxConnectionPools ?? ENVOY_DEFAULT_THRESHOLDS.maxConnectionPools,
    };
  };
  return { DEFAULT: pick(ProtoRoutingPriority.DEFAULT), HIGH: pick(ProtoRoutingPriority.HIGH) };
}
