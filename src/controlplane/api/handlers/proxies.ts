// /api/v1/proxies: every connected proxy with its per-type xDS versions, sync state and last rejection.

import { TrellisError } from '../../../shared/errors.js';
import type { HandlerDeps } from '../deps.js';
import type { Router } from '../router.js';
import type { ProxyListResponse, ProxyStatus } from '../types.js';

export function proxyCounts(proxies: readonly ProxyStatus[]): ProxyListResponse['counts'] {
  const counts = { total: proxies.length, synced: 0, stale: 0, nacked: 0 };
  for (const p of proxies) {
    const types = Object.values(p.xds);
    if (types.every((t) => t.state === 'SYNCED')) counts.synced++;
    if (types.some((t) => t.state === 'STALE')) counts.stale++;
    // A rejection matters while the proxy has not acknowledged anything newer than what it rejected.
    if (types.some((t) => t.lastNack && t.state !== 'SYNCED')) counts.nacked++;
  }
  return counts;
}

export function registerProxyRoutes(router: Router, deps: HandlerDeps): void {
  router.get('/api/v1/proxies', (): ProxyListResponse => {
    const proxies = [...deps.proxies.list()].sort((a, b) =>
      `${a.namespace}/${a.pod}` < `${b.namespace}/${b.pod}` ? -1 : 1,
    );
    return { proxies, counts: proxyCounts(proxies) };
  });
  router.get('/api/v1/proxies/:id', ({ params }) => {
    const proxy = deps.proxies
      .list()
      .find((p) => p.id === params.id || `${p.namespace}/${p.pod}` === params.id);
    if (!proxy) throw new TrellisError('API_NOT_FOUND', `no connected proxy with id "${params.id}"`);
    return proxy;
  });
}
