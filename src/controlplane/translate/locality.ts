// Locality-aware priorities for one client, as Istio computes them (failover, failoverPriority, distribute).

import type { LocalityLoadBalancerSetting } from '../../api/types/index.js';
import type { Endpoint } from '../../registry/model.js';
import type { Locality } from './proxy.js';

export function parseLocality(text: string | undefined): Locality {
  const [region = '', zone = '', subZone = ''] = (text ?? '').split('/');
  return { region, zone, subZone };
}

/** 0 = same region/zone/subzone, 1 = same zone, 2 = same region, 3 = other region (Istio's LbPriority). */
function lbPriority(client: Locality, ep: Locality): number {
  if (client.region !== ep.region) return 3;
  if (client.zone !== ep.zone) return 2;
  if (client.subZone !== ep.subZone) return 1;
  return 0;
}

const LOCALITY_LABELS: Record<string, (l: Locality) => string> = {
  'topology.kubernetes.io/region': (l) => l.region,
  'topology.kubernetes.io/zone': (l) => l.zone,
  'topology.istio.io/subzone': (l) => l.subZone,
};

function labelValue(label: string, labels: Record<string, string>, locality: Locality): string | undefined {
  const fromLocality = LOCALITY_LABELS[label];
  return fromLocality ? fromLocality(locality) : labels[label];
}

/**
 * Raw priority of an endpoint for a client. With failoverPriority, endpoints matching the client on the first N
 * labels get priority (len - N); otherwise Istio's region/zone/subzone rule, where a region that is not the
 * failover target of the client's region drops to 4.
 */
export function endpointPriority(opts: {
  client: Locality;
  clientLabels: Record<string, string>;
  endpoint: Endpoint;
  setting: LocalityLoadBalancerSetting;
}): number {
  const epLocality = parseLocality(opts.endpoint.locality);
  const fp = opts.setting.failoverPriority;
  if (fp && fp.length > 0) {
    let matched = 0;
    for (const raw of fp) {
      const [label, override] = raw.split('=');
      const want = override ?? labelValue(label!, opts.clientLabels, opts.client);
      if (want === undefined || labelValue(label!, opts.endpoint.labels, epLocality) !== want) break;
      matched++;
    }
    return fp.length - matched;
  }
  let p = lbPriority(opts.client, epLocality);
  if (p === 3) {
    for (const f of opts.setting.failover ?? []) {
      if (f.from === opts.client.region) {
        if (epLocality.region !== f.to) p = 4;
        break;
      }
    }
  }
  return p;
}

/** Renumbers raw priorities to 0..n-1 keeping their order: Envoy requires contiguous priorities. */
export function compactPriorities(raw: number[]): number[] {
  const sorted = [...new Set(raw)].sort((a, b) => a - b);
  const map = new Map(sorted.map((p, i) => [p, i]));
  return raw.map((p) => map.get(p)!);
}

/** Locality weights from `distribute` (from `region/zone/*` → {to: weight}); undefined when no rule applies. */
export function distributeWeight(
  setting: LocalityLoadBalancerSetting,
  client: Locality,
  endpointLocality: string,
): number | undefined {
  const matches = (pattern: string, l: Locality) => {
    const [r = '*', z = '*', s = '*'] = pattern.split('/');
    return (r === '*' || r === l.region) && (z === '*' || z === l.zone) && (s === '*' || s === l.subZone);
  };
  for (const rule of setting.distribute ?? []) {
    if (!matches(rule.from, client)) continue;
    const ep = parseLocality(endpointLocality);
    let total: number | undefined;
    for (const [to, weight] of Object.entries(rule.to)) if (matches(to, ep)) total = (total ?? 0) + weight;
    return total ?? 0;
  }
  return undefined;
}
