// VirtualServices by the hosts and gateways they bind to, as Istio selects them for sidecars and gateways.

import type { VirtualService } from '../../api/types/index.js';
import { namespaceOf, visibleTo } from './config-index.js';
import { hostMatches, hostSpecificity, resolveHost } from './hosts.js';

export interface BoundVirtualService {
  vs: VirtualService;
  /** The VS hosts, resolved to FQDNs in the VS namespace. */
  hosts: string[];
}

export interface VirtualServiceIndex {
  /** VirtualServices bound to `mesh` and visible from `namespace`, oldest first. */
  forMesh(namespace: string): readonly BoundVirtualService[];
  /** VirtualServices bound to a gateway (`ns/name`), oldest first. */
  forGateway(gatewayRef: string): readonly BoundVirtualService[];
  /** For a sidecar: the one VirtualService governing `host` (exact beats wildcard; oldest wins a tie). */
  forHost(namespace: string, host: string): BoundVirtualService | undefined;
  delegate(name: string, namespace: string): VirtualService | undefined;
}

/** `gateways` entries as `ns/name` (short names resolve in the VS namespace); empty means `mesh`. */
export function gatewayRefs(
  vs: VirtualService,
  gateways: readonly string[] | undefined = vs.spec.gateways,
): string[] {
  if (!gateways || gateways.length === 0) return ['mesh'];
  return gateways.map((g) => (g === 'mesh' || g.includes('/') ? g : `${namespaceOf(vs)}/${g}`));
}

export function buildVirtualServiceIndex(
  list: readonly VirtualService[],
  domainSuffix: string,
): VirtualServiceIndex {
  const bound: BoundVirtualService[] = [];
  const delegates = new Map<string, VirtualService>();
  for (const vs of list) {
    const hosts = vs.spec.hosts ?? [];
    if (hosts.length === 0) delegates.set(`${namespaceOf(vs)}/${vs.metadata.name}`, vs);
    else bound.push({ vs, hosts: hosts.map((h) => resolveHost(h, namespaceOf(vs), domainSuffix)) });
  }
  const meshCache = new Map<string, BoundVirtualService[]>();
  const forMesh = (namespace: string) => {
    let v = meshCache.get(namespace);
    if (!v) {
      v = bound.filter(
        (b) =>
          gatewayRefs(b.vs).includes('mesh') && visibleTo(b.vs.spec.exportTo, namespaceOf(b.vs), namespace),
      );
      meshCache.set(namespace, v);
    }
    return v;
  };
  return {
    forMesh,
    forGateway: (ref) => bound.filter((b) => gatewayRefs(b.vs).includes(ref)),
    forHost(namespace, host) {
      let best: BoundVirtualService | undefined;
      let bestScore = -1;
      for (const b of forMesh(namespace)) {
        for (const h of b.hosts) {
          if (!hostMatches(h, host)) continue;
          const score = hostSpecificity(h);
          if (score > bestScore) {
            best = b;
            bestScore = score;
          }
        }
      }
      return best;
    },
    delegate: (name, namespace) => delegates.get(`${namespace}/${name}`),
  };
}
