// Weighted cluster choice as Envoy makes it: a uniform value below the total weight, walked through the weights.

import type { RouteActionConfig, TcpProxyConfig, WeightedClusterChoice } from '../model.js';

/** `random` is uniform in [0, 1) (Math.random by default; inject a seeded one in tests). */
export function pickWeightedCluster(
  action: RouteActionConfig,
  random: () => number = Math.random,
): WeightedClusterChoice | undefined {
  return pick(action.clusters, action.totalWeight, random);
}

export function pickTcpCluster(
  tcp: TcpProxyConfig,
  random: () => number = Math.random,
): { name: string; weight: number } | undefined {
  return pick(tcp.clusters, tcp.totalWeight, random);
}

function pick<T extends { weight: number }>(
  list: readonly T[],
  total: number,
  random: () => number,
): T | undefined {
  if (list.length <= 1) return list[0];
  const value = Math.floor(random() * total);
  let end = 0;
  for (const c of list) {
    end += c.weight;
    if (value < end) return c;
  }
  return list[list.length - 1];
}
