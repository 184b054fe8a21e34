// The one place the pipeline finds a request's virtual host and route, with sidecar/config's compiled matchers.

import type { RouteEntry, RouteRequest, RouteTable, VirtualHostConfig } from '../../../config/model.js';
import type { ProxyRequest } from '../../message.js';
import { requestHeaderValue } from './request-headers.js';

/** Where the lookup writes its answer (the request's stream). */
export interface RouteLookup {
  vhost: VirtualHostConfig | undefined;
  route: RouteEntry | undefined;
}

/**
 * Envoy's order: the virtual host by authority (the table's precompiled domain matching, fed the lower-cased
 * authority), then the first route of that host whose match holds. Writes both into `into` and returns
 * the route (undefined: no virtual host, or no route in it).
 */
export function lookupRoute(table: RouteTable, req: ProxyRequest, into: RouteLookup): RouteEntry | undefined {
  const vhost = table.findVirtualHost(req.authority.toLowerCase());
  into.vhost = vhost;
  into.route = undefined;
  if (vhost === undefined) return undefined;
  const routes = vhost.routes;
  const routeRequest: RouteRequest = { path: req.path, header: (name) => requestHeaderValue(req, name) };
  for (let i = 0; i < routes.length; i++) {
    const route = routes[i]!;
    if (route.matches(routeRequest)) {
      into.route = route;
      return route;
    }
  }
  return undefined;
}
