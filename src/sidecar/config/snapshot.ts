// A consistent SidecarConfig from decoded resources: every route config and endpoint set referenced is present.

import { TrellisError } from '../../shared/errors.js';
import { addressKey, parseIp } from './match/ip.js';
import type { ClusterConfig, EndpointSet, ListenerConfig, RouteTable, SidecarConfig } from './model.js';

export interface SnapshotInput {
  versions?: Partial<SidecarConfig['versions']>;
  listeners: ReadonlyMap<string, ListenerConfig>;
  routes: ReadonlyMap<string, RouteTable>;
  clusters: ReadonlyMap<string, ClusterConfig>;
  endpoints: ReadonlyMap<string, EndpointSet>;
}

/** The RDS names a listener needs before it can serve (Envoy's listener warming). */
export function listenerDependencies(l: ListenerConfig): string[] {
  const names = new Set<string>();
  for (const c of [...l.filterChains, ...(l.defaultFilterChain ? [l.defaultFilterChain] : [])]) {
    if (c.terminal.kind === 'http' && c.terminal.hcm.rds !== undefined) names.add(c.terminal.hcm.rds);
  }
  return [...names];
}

/** The EDS name a cluster needs before it can serve (Envoy's cluster warming). */
export function clusterDependencies(c: ClusterConfig): string[] {
  return c.type === 'EDS' ? [c.edsServiceName] : [];
}

export interface MissingResource {
  name: string;
  /** The listeners or clusters waiting for it. */
  neededBy: string[];
}

export interface MissingResources {
  routes: MissingResource[];
  endpoints: MissingResource[];
}

/** What the input lacks to be consistent; both lists empty when buildSidecarConfig will succeed. */
export function missingResources(input: SnapshotInput): MissingResources {
  const routes = new Map<string, string[]>();
  for (const l of input.listeners.values()) {
    for (const name of listenerDependencies(l)) {
      if (!input.routes.has(name)) routes.set(name, [...(routes.get(name) ?? []), l.name]);
    }
  }
  const endpoints = new Map<string, string[]>();
  for (const c of input.clusters.values()) {
    for (const name of clusterDependencies(c)) {
      if (!input.endpoints.has(name)) endpoints.set(name, [...(endpoints.get(name) ?? []), c.name]);
    }
  }
  const list = (m: Map<string, string[]>) => [...m].map(([name, neededBy]) => ({ name, neededBy }));
  return { routes: list(routes), endpoints: list(endpoints) };
}

/** Builds the immutable snapshot; throws TrellisError XDS_INCONSISTENT naming every missing or clashing resource. */
export function buildSidecarConfig(input: SnapshotInput): SidecarConfig {
  const problems: string[] = [];
  const missing = missingResources(input);
  for (const r of missing.routes) {
    problems.push(
      `RouteConfiguration "${r.name}" is missing (used by Listener ${r.neededBy.map((n) => `"${n}"`).join(', ')})`,
    );
  }
  for (const e of missing.endpoints) {
    problems.push(
      `ClusterLoadAssignment "${e.name}" is missing (used by Cluster ${e.neededBy.map((n) => `"${n}"`).join(', ')})`,
    );
  }
  const byAddress = new Map<string, ListenerConfig>();
  for (const l of input.listeners.values()) {
    if (l.apiListener) continue;
    const ip = parseIp(l.address.address);
    if (!ip) {
      problems.push(`Listener "${l.name}": address ${l.address.address} is not an IP address`);
      continue;
    }
    const key = addressKey(ip, l.address.port);
    const other = byAddress.get(key);
    if (other) problems.push(`Listener "${l.name}" has the same address ${key} as Listener "${other.name}"`);
    else byAddress.set(key, l);
  }
  if (problems.length > 0) {
    throw new TrellisError('XDS_INCONSISTENT', problems.join('\n'), { missing });
  }
  return Object.freeze({
    versions: {
      listeners: input.versions?.listeners ?? '',
      routes: input.versions?.routes ?? '',
      clusters: input.versions?.clusters ?? '',
      endpoints: input.versions?.endpoints ?? '',
    },
    listeners: input.listeners,
    listenersByAddress: byAddress,
    routes: input.routes,
    clusters: input.clusters,
    endpoints: input.endpoints,
  });
}
