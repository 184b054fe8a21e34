// Translation entry point: (indexes, proxy) → the proxy's listeners, routes, clusters and endpoints.

import { isHttpProtocol } from '../../registry/model.js';
import type { Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { ClusterLoadAssignment } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import type { Listener } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import type { RouteConfiguration } from '../../xds/gen/envoy/config/route/v3/route_pb.js';
import type { MeshIndex } from '../index/mesh-index.js';
import { buildClusters } from './clusters.js';
import { buildEndpoints, dnsLoadAssignment } from './endpoints.js';
import { type BoundPatch, patchClusters, patchesFor, patchRouteConfiguration } from './envoy-filter.js';
import { buildListeners, grpcListenerNames, type ListenerBuildOptions } from './listeners.js';
import type { MeshProxy } from './proxy.js';
import {
  gatewayRouteConfig,
  grpcRouteConfig,
  httpProxyRouteConfig,
  outboundHttpPorts,
  outboundRouteConfig,
} from './routes.js';
import { buildScope, type ProxyScope } from './scope.js';
import { inboundHttpSecurityFilters, inboundTcpSecurityFilters } from './security.js';

export interface ProxyResources {
  listeners: Listener[];
  routes: RouteConfiguration[];
  clusters: Cluster[];
  endpoints: ClusterLoadAssignment[];
}

function routeConfigs(
  index: MeshIndex,
  scope: ProxyScope,
  patches: readonly BoundPatch[],
): RouteConfiguration[] {
  const proxy = scope.proxy;
  if (proxy.type === 'grpc') {
    const out: RouteConfiguration[] = [];
    for (const svc of scope.services) {
      if (svc.resolution !== 'STATIC') continue;
      for (const p of svc.ports) {
        if (!isHttpProtocol(p.protocol) && p.protocol !== 'UNKNOWN') continue;
        out.push(grpcRouteConfig(index, scope, svc, p.port, grpcListenerNames(svc, p.port, proxy.namespace)));
      }
    }
    return out;
  }
  if (proxy.type === 'router') {
    const gateways = index.gateways.forProxy(proxy.labels);
    const ports = new Set<number>();
    for (const gw of gateways) {
      for (const s of gw.spec.servers) {
        const p = s.port.protocol.toUpperCase();
        if (p === 'HTTP' || p === 'HTTP2' || p === 'GRPC' || (p === 'HTTPS' && s.tls?.mode !== 'PASSTHROUGH'))
          ports.add(s.port.number);
      }
    }
    return [...ports]
      .sort((a, b) => a - b)
      .map((port) => {
        const rc = gatewayRouteConfig(index, scope, port, gateways);
        patchRouteConfiguration(rc, patches, { context: 'GATEWAY', port });
        return rc;
      });
  }
  if (proxy.interceptionMode === 'NONE') {
    const rc = httpProxyRouteConfig(index, scope);
    patchRouteConfiguration(rc, patches, { context: 'SIDECAR_OUTBOUND', port: proxy.proxyHttpPort ?? 0 });
    return [rc];
  }
  return outboundHttpPorts(scope).map((port) => {
    const rc = outboundRouteConfig(index, scope, port);
    patchRouteConfiguration(rc, patches, { context: 'SIDECAR_OUTBOUND', port });
    return rc;
  });
}

function listenerOptions(
  index: MeshIndex,
  scope: ProxyScope,
  patches: readonly BoundPatch[],
): ListenerBuildOptions {
  return {
    index,
    scope,
    patches,
    inboundHttpSecurity: (port) => inboundHttpSecurityFilters(index, scope.proxy, port),
    inboundTcpSecurity: (port) => inboundTcpSecurityFilters(index, scope.proxy, port),
  };
}

export function generateForProxy(index: MeshIndex, proxy: MeshProxy): ProxyResources {
  const scope = buildScope(index, proxy);
  const patches = patchesFor(index, proxy);
  const clusters = patchClusters(
    buildClusters({ index, scope, dnsLoadAssignment: dnsLoadAssignment(index, scope) }),
    patches,
    proxy.type === 'router' ? 'GATEWAY' : 'SIDECAR_OUTBOUND',
  );
  return {
    listeners: buildListeners(listenerOptions(index, scope, patches)),
    routes: routeConfigs(index, scope, patches),
    clusters,
    endpoints: buildEndpoints(index, scope),
  };
}

/** Endpoint-only pushes recompute just this. */
export function generateEndpoints(index: MeshIndex, proxy: MeshProxy): ClusterLoadAssignment[] {
  return buildEndpoints(index, buildScope(index, proxy));
}
