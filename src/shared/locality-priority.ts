// Istio's locality load balancing as a pure function: each endpoint's EDS priority and locality weight.

import type { LocalityLoadBalancerSetting } from '../api/types/networking.js';

export interface LocalityParts {
  region: string;
  zone: string;
  subZone: string;
}

/** Labels Istio adds to proxies and endpoints so that `failoverPriority` can name the topology. */
export const TOPOLOGY_LABELS = {
  region: 'topology.kubernetes.io/region',
  zone: 'topology.kubernetes.io/zone',
  subZone: 'topology.istio.io/subzone',
  network: 'topology.istio.io/network',
} as const;

export interface LocalityPeer {
  /** `region/zone/subzone` or parts; any part may be empty. */
  locality?: string | LocalityParts;
  labels?: Readonly<Record<string, string>>;
  network?: string;
}

export interface LocalityEndpoint extends LocalityPeer {
  /** The endpoint's load balancing weight (default 1); a locality's weight is the sum over its endpoints. */
  weight?: number;
}

export interface LocalityPriorityInput {
  /** The proxy the endpoints are computed for. */
  client: LocalityPeer;
  endpoints: readonly LocalityEndpoint[];
  /** The effective setting (see `effectiveLocalityLbSetting`); undefined means locality LB is off. */
  setting: LocalityLoadBalancerSetting | undefined;
  /** Istio only fails over when the cluster has outlier detection: otherwise nothing ever spills. */
  outlierDetection: boolean;
}

export interface LocalityPlacement {
  /** The EDS priority: 0 is most preferred, numbered without gaps as Envoy requires. */
  priority: number;
  /**
   * Istio's priority before gaps are closed. Without `failoverPriority`: 0 same region, zone and
   * sub-zone; 1 same zone, other sub-zone; 2 same region, other zone; 3 other region (the `failover.to`
   * region when a rule names the client's region); 4 any other region when a rule applies.
   * With `failoverPriority` the label rank counts first: rank = labelRank × 5 + that number.
   */
  rank: number;
  /** `distribute`: the weight of the endpoint's locality, when a rule sets it. */
  localityWeight?: number;
  /** `distribute`: the endpoint's locality receives no traffic from this client. */
  excluded: boolean;
}

/** Istio's `GetLocalityLbSetting`: a DestinationRule setting replaces the mesh one entirely. */
export function effectiveLocalityLbSetting(
  mesh: LocalityLoadBalancerSetting | undefined,
  destinationRule: LocalityLoadBalancerSetting | undefined,
): LocalityLoadBalancerSetting | undefined {
  if (destinationRule) return destinationRule.enabled === false ? undefined : destinationRule;
  if (mesh?.enabled === false) return undefined;
  return mesh;
}

export function assignLocalityPriorities(input: LocalityPriorityInput): LocalityPlacement[] {
  const placements = input.endpoints.map(
    () => ({ priority: 0, rank: 0, excluded: false }) as LocalityPlacement,
  );
  const setting = input.setting;
  if (!setting) return placements;
  const client = toParts(input.client.locality);

  if (setting.distribute && setting.distribute.length > 0) {
    applyDistribute(client, input.endpoints, setting.distribute, placements);
    return placements;
  }
  if (!input.outlierDetection) return placements;

  const failoverPriority = setting.failoverPriority ?? [];
  const useLabels = failoverPriority.length > 0;
  const useLocality = !useLabels || (setting.failover?.length ?? 0) > 0;
  const clientLabels = withTopologyLabels(input.client, client);
  const ranks = input.endpoints.map((ep) => {
    const epLocality = toParts(ep.locality);
    const labelRank =
      useLabels && Object.keys(clientLabels).length > 0
        ? labelPriority(failoverPriority, clientLabels, withTopologyLabels(ep, epLocality))
        : 0;
    const localityRank = useLocality ? localityPriority(client, epLocality, setting.failover ?? []) : 0;
    return labelRank * 5 + localityRank;
  });
  // Envoy wants priorities 0..N without gaps; keep the order, close the gaps.
  const distinct = [...new Set(ranks)].sort((a, b) => a - b);
  ranks.forEach((rank, i) => {
    placements[i]!.rank = rank;
    placements[i]!.priority = distinct.indexOf(rank);
  });
  return placements;
}

/** Istio's `LbPriority` plus the region failover rule (`applyLocalityFailover`). */
function localityPriority(
  client: LocalityParts,
  ep: LocalityParts,
  failover: readonly { from: string; to: string }[],
): number {
  if (client.region === ep.region) {
    if (client.zone === ep.zone) return client.subZone === ep.subZone ? 0 : 1;
    return 2;
  }
  for (const rule of failover) {
    if (rule.from === client.region) return ep.region === rule.to ? 3 : 4;
  }
  return 3;
}

/**
 * Istio's `applyFailoverPriorityPerLocality`: the first label (of n) on which endpoint and client
 * differ gives priority n − index; an endpoint matching all labels gets 0. `label=value` entries
 * compare the endpoint with that value instead of the client's label.
 */
function labelPriority(
  failoverPriority: readonly string[],
  clientLabels: Readonly<Record<string, string>>,
  endpointLabels: Readonly<Record<string, string>>,
): number {
  const n = failoverPriority.length;
  for (let j = 0; j < n; j++) {
    const entry = failoverPriority[j]!;
    const eq = entry.indexOf('=');
    const label = eq === -1 ? entry : entry.slice(0, eq);
    const wanted = eq === -1 ? clientLabels[label] : entry.slice(eq + 1);
    if (wanted !== endpointLabels[label]) return n - j;
  }
  return 0;
}

/** Istio's `applyLocalityWeights`: the first rule whose `from` matches the client sets the weights. */
function applyDistribute(
  client: LocalityParts,
  endpoints: readonly LocalityEndpoint[],
  rules: readonly { from: string; to: Record<string, number> }[],
  placements: LocalityPlacement[],
): void {
  const rule = rules.find((r) => localityMatches(client, r.from));
  if (!rule) return;
  const groups = new Map<string, { parts: LocalityParts; weight: number; members: number[] }>();
  endpoints.forEach((ep, i) => {
    const parts = toParts(ep.locality);
    const key = `${parts.region}/${parts.zone}/${parts.subZone}`;
    let g = groups.get(key);
    if (!g) {
      g = { parts, weight: 0, members: [] };
      groups.set(key, g);
    }
    g.weight += ep.weight ?? 1;
    g.members.push(i);
  });
  const unmatched = new Set(groups.keys());
  for (const [target, weight] of Object.entries(rule.to)) {
    const matched = [...unmatched].filter((key) => localityMatches(groups.get(key)!.parts, target));
    let total = 0;
    for (const key of matched) total += groups.get(key)!.weight;
    for (const key of matched) {
      unmatched.delete(key);
      const g = groups.get(key)!;
      // As in Istio, a computed weight of 0 leaves the locality's own weight in place.
      const share = (g.weight * weight) / total;
      if (share > 0) for (const i of g.members) placements[i]!.localityWeight = Math.ceil(share);
    }
  }
  for (const key of unmatched) for (const i of groups.get(key)!.members) placements[i]!.excluded = true;
}

/** Istio's `LocalityMatch`: `*` matches anything; an omitted zone or sub-zone matches anything. */
export function localityMatches(locality: LocalityParts, rule: string): boolean {
  const [region = '', zone = '', subZone = ''] = rule.split('/');
  return (
    (region === '*' || locality.region === region) &&
    (zone === '*' || zone === '' || locality.zone === zone) &&
    (subZone === '*' || subZone === '' || locality.subZone === subZone)
  );
}

function toParts(locality: string | LocalityParts | undefined): LocalityParts {
  if (!locality) return { region: '', zone: '', subZone: '' };
  if (typeof locality !== 'string') return locality;
  const [region = '', zone = '', subZone = ''] = locality.split('/');
  return { region, zone, subZone };
}

/** Istio augments proxy and endpoint labels with their topology, so rules can name it. */
function withTopologyLabels(peer: LocalityPeer, parts: LocalityParts): Record<string, string> {
  const out: Record<string, string> = { ...peer.labels };
  if (parts.region && !(TOPOLOGY_LABELS.region in out)) out[TOPOLOGY_LABELS.region] = parts.region;
  if (parts.zone && !(TOPOLOGY_LABELS.zone in out)) out[TOPOLOGY_LABELS.zone] = parts.zone;
  if (parts.subZone && !(TOPOLOGY_LABELS.subZone in out)) out[TOPOLOGY_LABELS.subZone] = parts.subZone;
  if (peer.network && !(TOPOLOGY_LABELS.network in out)) out[TOPOLOGY_LABELS.network] = peer.network;
  return out;
}
