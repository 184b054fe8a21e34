// Services and endpoints by host, with Istio's visibility (exportTo) and Sidecar egress scoping.

import type { Endpoint, RegistrySnapshot, Service } from '../../registry/model.js';
import { visibleTo } from './config-index.js';
import { hostMatches, splitNamespacedHost } from './hosts.js';

export interface ServiceIndex {
  readonly all: readonly Service[];
  byHost(host: string): Service | undefined;
  /** Services a proxy in `namespace` may see, optionally narrowed by Sidecar egress hosts (`ns/host`). */
  visible(namespace: string, egressHosts?: readonly string[]): readonly Service[];
  endpoints(host: string): readonly Endpoint[];
  /** SPIFFE service accounts (`ns/sa`) of the endpoints serving a host, for secure naming. */
  serviceAccounts(host: string): readonly string[];
}

function egressAllows(egressHosts: readonly string[], proxyNs: string, svc: Service): boolean {
  for (const ref of egressHosts) {
    const { namespace, host } = splitNamespacedHost(ref);
    const nsOk =
      namespace === '*' ||
      (namespace === '.'
        ? svc.namespace === proxyNs
        : namespace === '~'
          ? false
          : namespace === svc.namespace);
    if (nsOk && hostMatches(host.toLowerCase(), svc.hostname)) return true;
  }
  return false;
}

export function buildServiceIndex(registry: RegistrySnapshot): ServiceIndex {
  const hosts = new Map<string, Service>();
  // First definition of a host wins (Kubernetes services are listed before ServiceEntries by the registry).
  for (const s of registry.services) if (!hosts.has(s.hostname)) hosts.set(s.hostname, s);
  const all = [...hosts.values()].sort((a, b) => (a.hostname < b.hostname ? -1 : 1));
  const visibleCache = new Map<string, readonly Service[]>();
  const saCache = new Map<string, readonly string[]>();
  return {
    all,
    byHost: (host) => hosts.get(host),
    visible(namespace, egressHosts) {
      const key = `${namespace}|${egressHosts?.join(',') ?? ''}`;
      let v = visibleCache.get(key);
      if (!v) {
        v = all.filter(
          (s) =>
            visibleTo(s.exportTo, s.namespace, namespace) &&
            (!egressHosts || egressAllows(egressHosts, namespace, s)),
        );
        visibleCache.set(key, v);
      }
      return v;
    },
    endpoints: (host) => registry.endpoints.get(host) ?? [],
    serviceAccounts(host) {
      let v = saCache.get(host);
      if (!v) {
        const set = new Set<string>();
        for (const e of registry.endpoints.get(host) ?? [])
          if (e.serviceAccount) set.add(`${e.namespace}/${e.serviceAccount}`);
        v = [...set].sort();
        saCache.set(host, v);
      }
      return v;
    },
  };
}
