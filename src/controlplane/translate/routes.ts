// RDS: outbound route configs per port, inbound ones per workload port, gateway ones, and host mode's http_proxy.

import { create } from '@bufbuild/protobuf';
import type { Gateway, HTTPRoute, VirtualService } from '../../api/types/index.js';
import { isHttpProtocol, type Service } from '../../registry/model.js';
import type { VirtualHostSchema } from '../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import {
  type RouteConfiguration,
  RouteConfigurationSchema,
} from '../../xds/gen/envoy/config/route/v3/route_pb.js';
import { gatewayRef } from '../index/gateway-index.js';
import { hostsIntersect } from '../index/hosts.js';
import type { MeshIndex } from '../index/mesh-index.js';
import { expandDelegates } from './delegate.js';
import { type Init, inboundClusterName, ms, outboundClusterName, PASSTHROUGH_CLUSTER } from './envoy.js';
import { type RouteContext, type RouteInit, retryPolicy, translateHttpRoute } from './http-route.js';
import type { ProxyScope } from './scope.js';

type VirtualHostInit = Init<typeof VirtualHostSchema>;

export const HTTP_PROXY_ROUTE = 'http_proxy';

/** Every name a client may use for a service on a port (Istio's domain list), VIPs included. */
export function serviceDomains(
  svc: Service,
  port: number,
  proxyNamespace: string,
  withBarePort: boolean,
): string[] {
  const names: string[] = [svc.hostname];
  if (svc.source === 'kubernetes') {
    const suffix = `.${svc.namespace}.svc.`;
    const at = svc.hostname.indexOf(suffix);
    if (at > 0) {
      const name = svc.hostname.slice(0, at);
      names.push(`${name}.${svc.namespace}.svc`, `${name}.${svc.namespace}`);
      if (svc.namespace === proxyNamespace) names.push(name);
    }
  }
  names.push(...svc.addresses);
  const out: string[] = [];
  for (const n of names) {
    if (withBarePort) out.push(n);
    out.push(`${n.includes(':') && !n.startsWith('[') && n.split(':').length > 2 ? `[${n}]` : n}:${port}`);
  }
  return out;
}

function defaultRoute(svc: Service, port: number, ctx: RouteContext): RouteInit {
  return {
    name: 'default',
    match: { pathSpecifier: { case: 'prefix', value: '/' } },
    action: {
      case: 'route',
      value: {
        clusterSpecifier: { case: 'cluster', value: outboundClusterName(port, '', svc.hostname) },
        timeout: ms(0),
        retryPolicy: retryPolicy(undefined, ctx, false),
        maxStreamDuration: { grpcTimeoutHeaderMax: ms(0) },
        upgradeConfigs: [{ upgradeType: 'websocket' }],
      },
    },
    decorator: { operation: `${svc.hostname}:${port}/*` },
  };
}

/** Istio moves catch-all rules behind the others when it merges several VirtualServices for one host. */
function isCatchAll(r: HTTPRoute): boolean {
  return !r.match || r.match.length === 0 || r.match.every((m) => Object.keys(m).length === 0);
}

function routesFromVirtualServices(list: VirtualService[], ctx: RouteContext, index: MeshIndex): RouteInit[] {
  const expanded = list.flatMap((vs) => expandDelegates(vs, index.virtualServices));
  const ordered =
    list.length > 1
      ? [...expanded.filter((e) => !isCatchAll(e.route)), ...expanded.filter((e) => isCatchAll(e.route))]
      : expanded;
  return ordered.flatMap((e, i) => translateHttpRoute(e.route, e.vs, ctx, i));
}

function catchAllVirtualHost(scope: ProxyScope): VirtualHostInit {
  if (scope.outboundTrafficPolicy === 'REGISTRY_ONLY') {
    return {
      name: 'block_all',
      domains: ['*'],
      routes: [
        {
          name: 'block_all',
          match: { pathSpecifier: { case: 'prefix', value: '/' } },
          action: { case: 'directResponse', value: { status: 502 } },
        },
      ],
    };
  }
  return {
    name: 'allow_any',
    domains: ['*'],
    routes: [
      {
        name: 'allow_any',
        match: { pathSpecifier: { case: 'prefix', value: '/' } },
        action: {
          case: 'route',
          value: {
            clusterSpecifier: { case: 'cluster', value: PASSTHROUGH_CLUSTER },
            timeout: ms(0),
            maxStreamDuration: { grpcTimeoutHeaderMax: ms(0) },
          },
        },
      },
    ],
  };
}

/** Adds vhosts while keeping domains unique across the route config (Envoy rejects duplicates). */
class VirtualHostSet {
  readonly hosts: VirtualHostInit[] = [];
  readonly #domains = new Set<string>();

  add(vh: VirtualHostInit): void {
    const domains = (vh.domains ?? []).filter((d) => !this.#domains.has(d));
    if (domains.length === 0) return;
    for (const d of domains) this.#domains.add(d);
    this.hosts.push({ ...vh, domains });
  }
}

function serviceVirtualHost(
  index: MeshIndex,
  scope: ProxyScope,
  svc: Service,
  port: number,
  domains: string[],
): VirtualHostInit {
  const vhostName = `${svc.hostname}:${port}`;
  const ctx: RouteContext = { index, scope, port, gateway: 'mesh', vhostName };
  const bound = index.virtualServices.forHost(scope.proxy.namespace, svc.hostname);
  const routes = bound ? routesFromVirtualServices([bound.vs], ctx, index) : [defaultRoute(svc, port, ctx)];
  return { name: vhostName, domains, routes, includeRequestAttemptCount: true };
}

/** Outbound route config `"<port>"` for a sidecar: one vhost per HTTP service on that port, then the catch-all. */
export function outboundRouteConfig(index: MeshIndex, scope: ProxyScope, port: number): RouteConfiguration {
  const set = new VirtualHostSet();
  for (const svc of scope.services) {
    const sp = svc.ports.find((p) => p.port === port);
    if (!sp || !(isHttpProtocol(sp.protocol) || sp.protocol === 'UNKNOWN')) continue;
    set.add(
      serviceVirtualHost(index, scope, svc, port, serviceDomains(svc, port, scope.proxy.namespace, true)),
    );
  }
  set.add(catchAllVirtualHost(scope));
  return create(RouteConfigurationSchema, {
    name: String(port),
    virtualHosts: set.hosts,
    validateClusters: false,
  });
}

/** Host mode: the app's explicit HTTP proxy sees absolute URLs for every port, so one config holds them all. */
export function httpProxyRouteConfig(index: MeshIndex, scope: ProxyScope): RouteConfiguration {
  const set = new VirtualHostSet();
  for (const svc of scope.services) {
    for (const sp of svc.ports) {
      if (!(isHttpProtocol(sp.protocol) || sp.protocol === 'UNKNOWN')) continue;
      set.add(
        serviceVirtualHost(
          index,
          scope,
          svc,
          sp.port,
          serviceDomains(svc, sp.port, scope.proxy.namespace, sp.port === 80),
        ),
      );
    }
  }
  set.add(catchAllVirtualHost(scope));
  return create(RouteConfigurationSchema, {
    name: HTTP_PROXY_ROUTE,
    virtualHosts: set.hosts,
    validateClusters: false,
  });
}

/** Inbound `inbound|<port>||`: everything to the app; authorization and rate limits run as HTTP filters. */
export function inboundRouteConfig(port: number, serviceHost: string | undefined): RouteConfiguration {
  return create(RouteConfigurationSchema, {
    name: inboundClusterName(port),
    validateClusters: false,
    virtualHosts: [
      {
        name: `inbound|http|${port}`,
        domains: ['*'],
        routes: [
          {
            name: 'default',
            match: { pathSpecifier: { case: 'prefix', value: '/' } },
            action: {
              case: 'route',
              value: {
                clusterSpecifier: { case: 'cluster', value: inboundClusterName(port) },
                timeout: ms(0),
                maxStreamDuration: { grpcTimeoutHeaderMax: ms(0) },
                upgradeConfigs: [{ upgradeType: 'websocket' }],
              },
            },
            decorator: { operation: `${serviceHost ?? 'inbound'}:${port}/*` },
          },
        ],
      },
    ],
  });
}

export function gatewayRouteName(port: number): string {
  return `http.${port}`;
}

/** Gateway `http.<port>`: vhosts from VirtualServices bound to the Gateway servers on that port; no VS, no vhost (404). */
export function gatewayRouteConfig(
  index: MeshIndex,
  scope: ProxyScope,
  port: number,
  gateways: readonly Gateway[],
): RouteConfiguration {
  const byHost = new Map<string, { vs: VirtualService[]; gateway: string }>();
  for (const gw of gateways) {
    const ref = gatewayRef(gw);
    for (const server of gw.spec.servers) {
      if (server.port.number !== port) continue;
      const proto = server.port.protocol.toUpperCase();
      if (proto !== 'HTTP' && proto !== 'HTTPS' && proto !== 'HTTP2' && proto !== 'GRPC') continue;
      const serverHosts = server.hosts.map((h) => (h.includes('/') ? h.slice(h.indexOf('/') + 1) : h));
      for (const bound of index.virtualServices.forGateway(ref)) {
        for (const host of bound.vs.spec.hosts ?? []) {
          const h = host.toLowerCase();
          if (!serverHosts.some((sh) => hostsIntersect(sh, h))) continue;
          const entry = byHost.get(h) ?? { vs: [], gateway: ref };
          if (!entry.vs.includes(bound.vs)) entry.vs.push(bound.vs);
          byHost.set(h, entry);
        }
      }
    }
  }
  const set = new VirtualHostSet();
  const hosts = [...byHost.keys()].sort((a, b) => (a === '*' ? 1 : b === '*' ? -1 : a < b ? -1 : 1));
  for (const host of hosts) {
    const { vs, gateway } = byHost.get(host)!;
    const ctx: RouteContext = { index, scope, port, gateway, vhostName: `${host}:${port}` };
    const routes = routesFromVirtualServices(vs, ctx, index);
    const domains = host === '*' ? ['*'] : [host, `${host}:${port}`];
    set.add({ name: `${host}:${port}`, domains, routes, includeRequestAttemptCount: true });
  }
  return create(RouteConfigurationSchema, {
    name: gatewayRouteName(port),
    virtualHosts: set.hosts,
    validateClusters: false,
  });
}

/** Outbound HTTP ports of the services visible to a proxy (sniffed ports included: they may carry HTTP). */
export function outboundHttpPorts(scope: ProxyScope): number[] {
  const ports = new Set<number>();
  for (const svc of scope.services)
    for (const p of svc.ports) if (isHttpProtocol(p.protocol) || p.protocol === 'UNKNOWN') ports.add(p.port);
  return [...ports].sort((a, b) => a - b);
}

/** Proxyless gRPC: one route config per service port, named like its listener (`<fqdn>:<port>`). */
export function grpcRouteName(svc: Service, port: number): string {
  return `${svc.hostname}:${port}`;
}

export function grpcRouteConfig(
  index: MeshIndex,
  scope: ProxyScope,
  svc: Service,
  port: number,
  aliases: string[],
): RouteConfiguration {
  const vh = serviceVirtualHost(index, scope, svc, port, [
    ...new Set([...aliases, ...serviceDomains(svc, port, scope.proxy.namespace, true)]),
  ]);
  return create(RouteConfigurationSchema, { name: grpcRouteName(svc, port), virtualHosts: [vh] });
}
