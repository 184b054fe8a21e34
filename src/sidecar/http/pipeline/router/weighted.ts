// Weighted cluster choice as Envoy makes it (swap for sidecar/config's pickWeightedCluster when it lands).

import type { RouteActionConfig, WeightedClusterChoice } from '../../../config/model.js';

/** A uniform value below the total weight, walked through the weights in order. */
export function pickWeightedCluster(
  action: RouteActionConfig,
  random: () => number,
): WeightedClusterChoice | undefined {
  const list = action.clusters;
  if (list.length <= 1) return list[0];
  const value = Math.floor(random() * action.totalWeight);
  let end = 0;
  for (let i = 0; i < list.length; i++) {
    end += list[i]!.weight;
    if (value < end) return list[i];
  }
  return list[list.length - 1];
}
