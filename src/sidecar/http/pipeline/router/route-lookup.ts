// The one place the pipeline finds a request's virtual host and route: swap in sidecar/config's findRoute here.

import type { RouteEntry, RouteTable, VirtualHostConfig } from '../../../config/model.js';
import type { ProxyRequest } from '../../message.js';
import { routePredicate } from './route-match.js';

export interface RouteLookup {
  vhost: VirtualHostConfig | undefined;
  route: RouteEntry | undefined;
}

const NONE: RouteLookup = Object.freeze({ vhost: undefined, route: undefined });

/**
 * Envoy's order: the virtual host by authority (the table's precompiled domain matching, fed the lower-cased
 * authority), then the first route of that host whose match holds.
 */
export function lookupRoute(table: RouteTable, req: ProxyRequest, grpc: boolean): RouteLookup {
  const vhost = table.findVirtualHost(req.authority.toLowerCase());
  if (vhost === undefined) return NONE;
  const routes = vhost.routes;
  for (let i = 0; i < routes.length; i++) {
    const route = routes[i]!;
    if (routePredicate(route)(req, grpc)) return { vhost, route };
  }
  return { vhost, route: undefined };
}
