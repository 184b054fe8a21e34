// Builds the picker for a cluster's policy over one snapshot of its hosts.

import { TrellisError } from '../../../shared/errors.js';
import { leastRequestPickers } from './least-request.js';
import { DEFAULT_MAGLEV_TABLE_SIZE, MaglevTable } from './maglev.js';
import { OriginalDstBalancer } from './original-dst.js';
import { DEFAULT_OVERPROVISIONING_FACTOR, DEFAULT_PANIC_THRESHOLD } from './priority-load.js';
import { buildPrioritySet } from './priority-set.js';
import { randomPickers } from './random.js';
import { RingHashTable } from './ring-hash.js';
import { roundRobinPickers } from './round-robin.js';
import { HashBalancer } from './thread-aware.js';
import type { LoadBalancer, LoadBalancerOptions } from './types.js';
import { ZoneAwareBalancer } from './zone-aware.js';

/**
 * Call again on every endpoint or health change: the result is a fresh immutable picker. The cost is
 * O(hosts) (round robin, least request, random), O(ring size) for ring hash, O(table size) for Maglev.
 */
export function createLoadBalancer(opts: LoadBalancerOptions): LoadBalancer {
  const random = opts.random ?? Math.random;
  const policy = opts.policy;
  if (policy.type === 'ORIGINAL_DST') return new OriginalDstBalancer();
  const set = buildPrioritySet(opts.hosts, {
    overprovisioningFactor: opts.overprovisioningFactor ?? DEFAULT_OVERPROVISIONING_FACTOR,
    panicThreshold: opts.healthyPanicThreshold ?? DEFAULT_PANIC_THRESHOLD,
    weightedPriorityHealth: opts.weightedPriorityHealth ?? false,
  });
  const localityWeighted = opts.localityWeighted ?? false;
  const common = { policy: policy.type, set, localityWeighted, random, stats: opts.stats };
  switch (policy.type) {
    case 'ROUND_ROBIN':
      return new ZoneAwareBalancer({ ...common, pickers: roundRobinPickers(random) });
    case 'LEAST_REQUEST':
      return new ZoneAwareBalancer({ ...common, pickers: leastRequestPickers(random, policy) });
    case 'RANDOM':
      return new ZoneAwareBalancer({ ...common, pickers: randomPickers(random) });
    case 'RING_HASH':
      return new HashBalancer({ ...common, buildTable: (w) => new RingHashTable(w, policy) });
    case 'MAGLEV':
      return new HashBalancer({
        ...common,
        buildTable: (w) => new MaglevTable(w, policy.tableSize ?? DEFAULT_MAGLEV_TABLE_SIZE),
      });
    default:
      throw new TrellisError('LB_POLICY', `unsupported load balancing policy ${JSON.stringify(policy)}`);
  }
}
