// The hash family (ring hash, Maglev): one table per priority, chosen by the request hash.

import type { HashTable, WeightedHost } from './hash-table.js';
import { MASK64 } from './hash-table.js';
import type { Host } from './host.js';
import { choosePriority } from './priority-load.js';
import type { PriorityLevel, PrioritySet } from './priority-set.js';
import type { LbPolicyType, LbStats, LoadBalancer, PickContext } from './types.js';

export interface HashBalancerOptions {
  policy: LbPolicyType;
  set: PrioritySet;
  buildTable: (weights: readonly WeightedHost[]) => HashTable;
  localityWeighted: boolean;
  random: () => number;
  stats?: LbStats;
}

export class HashBalancer implements LoadBalancer {
  readonly policy: LbPolicyType;
  readonly #set: PrioritySet;
  readonly #tables: HashTable[];
  readonly #random: () => number;
  readonly #stats: LbStats | undefined;

  constructor(opts: HashBalancerOptions) {
    this.policy = opts.policy;
    this.#set = opts.set;
    this.#random = opts.random;
    this.#stats = opts.stats;
    this.#tables = opts.set.levels.map((level, p) =>
      opts.buildTable(normalizedWeights(level, opts.set.load.panic[p] ?? false, opts.localityWeighted)),
    );
  }

  get load() {
    return this.#set.load;
  }

  pick(ctx?: PickContext): Host | undefined {
    // Without a hash the balancer degrades to random, as Envoy's does.
    const hash = ctx?.hash ?? this.#randomHash();
    const priority = choosePriority(this.#set.load, Number(hash % 100n)) >> 1;
    const table = this.#tables[priority];
    if (!table) return undefined;
    if (this.#stats && this.#set.load.panic[priority]) this.#stats.lb_healthy_panic++;
    const attempts = (ctx?.hostSelectionRetryCount ?? 0) + 1;
    let host: Host | undefined;
    for (let i = 0; i < attempts; i++) {
      host = table.chooseHost(hash, i);
      if (!host || !ctx?.shouldSelectAnotherHost?.(host)) return host;
    }
    return host;
  }

  #randomHash(): bigint {
    const hi = BigInt(Math.floor(this.#random() * 0x100000000));
    const lo = BigInt(Math.floor(this.#random() * 0x100000000));
    return ((hi << 32n) | lo) & MASK64;
  }
}

/**
 * Envoy's `normalizeWeights`: host weights (times locality weights when locality weighted LB is on)
 * scaled to sum to 1 over the healthy hosts, or over all hosts when the priority panics. Degraded
 * hosts are not in the table, as in Envoy.
 */
export function normalizedWeights(
  level: PriorityLevel,
  panic: boolean,
  localityWeighted: boolean,
): WeightedHost[] {
  const out: WeightedHost[] = [];
  const addHosts = (hosts: readonly Host[], share: number) => {
    let sum = 0;
    for (const h of hosts) sum += h.weight;
    if (sum === 0) return;
    for (const h of hosts) out.push({ host: h, weight: (h.weight * share) / sum });
  };
  if (!localityWeighted || level.localities.length === 0) {
    addHosts(panic ? level.hosts : level.healthy, 1);
    return out;
  }
  let total = 0;
  for (const g of level.localities) total += g.weight;
  if (total === 0) return out;
  for (const g of level.localities) {
    if (g.weight !== 0) addHosts(panic ? g.hosts : g.healthy, g.weight / total);
  }
  return out;
}
