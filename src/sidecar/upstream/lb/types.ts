// The one load balancer interface every policy implements, and the options that build one.

import type { Host } from './host.js';
import type { PriorityLoad } from './priority-load.js';

/** Envoy's `lb_policy` values Trellis implements (`CLUSTER_PROVIDED` for ORIGINAL_DST clusters). */
export type LbPolicy =
  | { type: 'ROUND_ROBIN' }
  | {
      type: 'LEAST_REQUEST';
      /** Hosts sampled per pick when weights are equal (Envoy default 2: power of two choices). */
      choiceCount?: number;
      /** Exponent of `weight / (active + 1)^bias` when weights differ (Envoy default 1.0). */
      activeRequestBias?: number;
    }
  | { type: 'RANDOM' }
  | {
      type: 'RING_HASH';
      /** Envoy default 1024. */
      minimumRingSize?: number;
      /** Envoy default 8M. */
      maximumRingSize?: number;
    }
  | {
      type: 'MAGLEV';
      /** Must be prime; Envoy default 65537. */
      tableSize?: number;
    }
  | { type: 'ORIGINAL_DST' };

export type LbPolicyType = LbPolicy['type'];

/**
 * Per-request inputs to a pick. Reuse one object across picks to stay allocation-free.
 */
export interface PickContext {
  /**
   * For RING_HASH and MAGLEV: the request's hash (header, cookie, source IP or query parameter),
   * computed by the caller with `xxHash64` (and `combineHashes` for several policies). Without it
   * the hash balancers pick randomly, as Envoy does.
   */
  hash?: bigint;
  /**
   * Envoy's retry host predicate (`previous_hosts`): return true to reject a host and pick again,
   * up to `hostSelectionRetryCount` more times; the last host is returned if all are rejected.
   */
  shouldSelectAnotherHost?: (host: Host) => boolean;
  /** `host_selection_retry_max_attempts` (Istio sets 5). */
  hostSelectionRetryCount?: number;
  /** ORIGINAL_DST: the connection's original destination, which becomes the host. */
  originalDestination?: { address: string; port: number };
}

export interface LbStats {
  /** Envoy's `lb_healthy_panic`: picks made while the chosen priority was in panic. */
  lb_healthy_panic: number;
}

export function createLbStats(): LbStats {
  return { lb_healthy_panic: 0 };
}

/**
 * An immutable picker over one snapshot of a cluster's hosts. Endpoint churn and health changes
 * build a new one with `createLoadBalancer`; `pick` is synchronous and never does I/O.
 */
export interface LoadBalancer {
  readonly policy: LbPolicyType;
  /** Per-priority load, health and panic of this snapshot (for `/clusters` and tests). */
  readonly load: PriorityLoad;
  /** undefined when no host can serve (the router answers 503 UH). */
  pick(ctx?: PickContext): Host | undefined;
}

export interface LoadBalancerOptions {
  policy: LbPolicy;
  hosts: readonly Host[];
  /** Percent; the EDS `policy.overprovisioning_factor` (default 140, i.e. 1.4). */
  overprovisioningFactor?: number;
  /** Percent; `common_lb_config.healthy_panic_threshold` (Envoy default 50; Istio's minHealthPercent). */
  healthyPanicThreshold?: number;
  /** `common_lb_config.locality_weighted_lb_config` is set. */
  localityWeighted?: boolean;
  /** EDS `policy.weighted_priority_health`. */
  weightedPriorityHealth?: boolean;
  /** Uniform in [0, 1); injected by tests. */
  random?: () => number;
  stats?: LbStats;
}

/** The `previous_hosts` predicate: reject hosts a request already tried. */
export function previousHostsPredicate(tried: readonly Host[]): (host: Host) => boolean {
  return (host) => {
    for (const t of tried) if (t.key === host.key) return true;
    return false;
  };
}
