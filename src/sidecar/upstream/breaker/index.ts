// Public API of the circuit breakers: limits per cluster and priority, the pending queue, the pool hook.

export { type BreakerCounters, ClusterCircuitBreakers, type ResourceManager } from './circuit-breakers.js';
export { PendingQueue } from './pending-queue.js';
export {
  breakerConnectionPolicy,
  type ConnectionPolicy,
  type PoolCounters,
  UNLIMITED_CONNECTIONS,
} from './pool-policy.js';
export { ResourceLimit } from './resource.js';
export {
  type CircuitBreakerThresholds,
  ENVOY_DEFAULT_THRESHOLDS,
  ISTIO_DEFAULT_THRESHOLDS,
  type RoutingPriority,
  type ThresholdsByPriority,
  thresholdsFromProto,
} from './thresholds.js';
