// Istio config grouped by kind, in Istio's precedence order (oldest first, then namespace/name).

import type {
  AuthorizationPolicy,
  DestinationRule,
  EnvoyFilter,
  Gateway,
  PeerAuthentication,
  RequestAuthentication,
  Resource,
  ServiceEntry,
  Sidecar,
  Telemetry,
  VirtualService,
  WorkloadEntry,
} from '../../api/types/index.js';

export interface ConfigIndex {
  readonly virtualServices: readonly VirtualService[];
  readonly destinationRules: readonly DestinationRule[];
  readonly gateways: readonly Gateway[];
  readonly serviceEntries: readonly ServiceEntry[];
  readonly workloadEntries: readonly WorkloadEntry[];
  readonly sidecars: readonly Sidecar[];
  readonly envoyFilters: readonly EnvoyFilter[];
  readonly peerAuthentications: readonly PeerAuthentication[];
  readonly authorizationPolicies: readonly AuthorizationPolicy[];
  readonly requestAuthentications: readonly RequestAuthentication[];
  readonly telemetries: readonly Telemetry[];
}

export function namespaceOf(r: Resource): string {
  return r.metadata.namespace ?? 'default';
}

function byAge(a: Resource, b: Resource): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const na = `${namespaceOf(a)}/${a.metadata.name}`;
  const nb = `${namespaceOf(b)}/${b.metadata.name}`;
  return na < nb ? -1 : na > nb ? 1 : 0;
}

export function buildConfigIndex(resources: readonly Resource[]): ConfigIndex {
  const by = new Map<string, Resource[]>();
  for (const r of resources) {
    const list = by.get(r.kind);
    if (list) list.push(r);
    else by.set(r.kind, [r]);
  }
  const get = <T extends Resource>(kind: string): readonly T[] => ((by.get(kind) ?? []) as T[]).sort(byAge);
  return {
    virtualServices: get('VirtualService'),
    destinationRules: get('DestinationRule'),
    gateways: get('Gateway'),
    serviceEntries: get('ServiceEntry'),
    workloadEntries: get('WorkloadEntry'),
    sidecars: get('Sidecar'),
    envoyFilters: get('EnvoyFilter'),
    peerAuthentications: get('PeerAuthentication'),
    authorizationPolicies: get('AuthorizationPolicy'),
    requestAuthentications: get('RequestAuthentication'),
    telemetries: get('Telemetry'),
  };
}

/** Istio's exportTo: default everywhere; `.` = own namespace; `~` = nowhere; else the listed namespaces. */
export function visibleTo(exportTo: readonly string[] | undefined, owner: string, viewer: string): boolean {
  if (!exportTo || exportTo.length === 0) return true;
  for (const e of exportTo) {
    if (e === '*') return true;
    if (e === '.' && owner === viewer) return true;
    if (e === viewer) return true;
  }
  return false;
}

/** A stable config path as Istio puts in route/cluster metadata (`/apis/networking.istio.io/v1/namespaces/ns/virtual-service/name`). */
export function configPath(r: Resource): string {
  const kebab = r.kind.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
  const group = r.apiVersion.split('/')[0] ?? '';
  return `/apis/${group}/v1/namespaces/${namespaceOf(r)}/${kebab}/${r.metadata.name}`;
}
