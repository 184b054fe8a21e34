// An immutable snapshot of a cluster's hosts grouped as Envoy does: by priority, then by locality.

import type { Host, Locality } from './host.js';
import { computePriorityLoad, type PriorityLoad, type PriorityLoadOptions } from './priority-load.js';

export interface LocalityGroup {
  readonly key: string;
  readonly locality: Locality;
  /** The LocalityLbEndpoints' `load_balancing_weight` (0 removes the locality from weighted LB). */
  readonly weight: number;
  readonly hosts: readonly Host[];
  readonly healthy: readonly Host[];
  readonly degraded: readonly Host[];
}

export interface PriorityLevel {
  readonly priority: number;
  readonly hosts: readonly Host[];
  readonly healthy: readonly Host[];
  readonly degraded: readonly Host[];
  /** In order of first appearance in the host list. */
  readonly localities: readonly LocalityGroup[];
}

export interface PrioritySet {
  /** Index = priority; a priority with no endpoints is an empty level, as in Envoy. */
  readonly levels: readonly PriorityLevel[];
  readonly load: PriorityLoad;
  readonly overprovisioningFactor: number;
}

export interface PrioritySetOptions extends PriorityLoadOptions {
  /** `weighted_priority_health`: health by host weight instead of host count. */
  weightedPriorityHealth?: boolean;
}

/** Reads every host's health once; the result does not change when hosts are later ejected. */
export function buildPrioritySet(hosts: readonly Host[], opts: PrioritySetOptions): PrioritySet {
  let maxPriority = 0;
  for (const h of hosts) maxPriority = Math.max(maxPriority, h.priority);
  const buckets: Host[][] = Array.from({ length: maxPriority + 1 }, () => []);
  for (const h of hosts) buckets[h.priority]!.push(h);

  const levels = buckets.map((bucket, priority) => buildLevel(priority, bucket));
  const load = computePriorityLoad(
    levels.map((l) =>
      opts.weightedPriorityHealth
        ? { total: weightOf(l.hosts), healthy: weightOf(l.healthy), degraded: weightOf(l.degraded) }
        : { total: l.hosts.length, healthy: l.healthy.length, degraded: l.degraded.length },
    ),
    opts,
  );
  return { levels, load, overprovisioningFactor: opts.overprovisioningFactor };
}

function buildLevel(priority: number, hosts: readonly Host[]): PriorityLevel {
  const healthy: Host[] = [];
  const degraded: Host[] = [];
  const groups = new Map<
    string,
    { locality: Locality; weight: number; hosts: Host[]; healthy: Host[]; degraded: Host[] }
  >();
  for (const h of hosts) {
    let g = groups.get(h.localityKey);
    if (!g) {
      g = { locality: h.locality, weight: h.localityWeight, hosts: [], healthy: [], degraded: [] };
      groups.set(h.localityKey, g);
    }
    g.hosts.push(h);
    const health = h.coarseHealth;
    if (health === 'healthy') {
      healthy.push(h);
      g.healthy.push(h);
    } else if (health === 'degraded') {
      degraded.push(h);
      g.degraded.push(h);
    }
  }
  const localities = [...groups].map(([key, g]) => ({ key, ...g }));
  return { priority, hosts, healthy, degraded, localities };
}

function weightOf(hosts: readonly Host[]): number {
  let sum = 0;
  for (const h of hosts) sum += h.weight;
  return sum;
}
