// The names a pod's hosts file maps to each Service VIP: `reviews`, `reviews.default`, `.svc`, `.svc.cluster.local`.

import type { KubeService } from '../api/types/index.js';
import type { HostsEntry } from './network/netns.js';

export interface HostsOptions {
  /** The namespace of the pod reading the file: its services also answer to the bare name. */
  podNamespace: string;
  domainSuffix?: string;
}

/** One line per Service with a VIP; bare names only for the pod's own namespace, as Kubernetes' search path does. */
export function serviceHostsEntries(services: readonly KubeService[], opts: HostsOptions): HostsEntry[] {
  const suffix = opts.domainSuffix ?? 'cluster.local';
  const out: HostsEntry[] = [];
  for (const s of services) {
    const ip = s.spec.clusterIP;
    if (!ip || ip === 'None') continue;
    const name = s.metadata.name;
    const ns = s.metadata.namespace ?? 'default';
    const names = [`${name}.${ns}.svc.${suffix}`, `${name}.${ns}.svc`, `${name}.${ns}`];
    if (ns === opts.podNamespace) names.push(name);
    out.push({ ip, names });
  }
  return out.sort((a, b) => (a.names[0]! < b.names[0]! ? -1 : 1));
}

export function searchDomains(namespace: string, domainSuffix = 'cluster.local'): string[] {
  return [`${namespace}.svc.${domainSuffix}`, `svc.${domainSuffix}`, domainSuffix];
}
