// LDS: virtualOutbound/virtualInbound and per-port listeners for sidecars, bound listeners in host mode, gateways.

import { create } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import type { Gateway, TCPRoute, TLSRoute, VirtualService } from '../../api/types/index.js';
import { isHttpProtocol, type Protocol, type Service } from '../../registry/model.js';
import { TrafficDirection } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { type Listener, ListenerSchema } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { RouterSchema } from '../../xds/gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import { HttpInspectorSchema } from '../../xds/gen/envoy/extensions/filters/listener/http_inspector/v3/http_inspector_pb.js';
import { OriginalDstSchema } from '../../xds/gen/envoy/extensions/filters/listener/original_dst/v3/original_dst_pb.js';
import { TlsInspectorSchema } from '../../xds/gen/envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector_pb.js';
import {
  HttpConnectionManagerSchema,
  type HttpFilter,
} from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { TcpProxySchema } from '../../xds/gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { DownstreamTlsContextSchema } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { namespaceOf } from '../index/config-index.js';
import { gatewayRef } from '../index/gateway-index.js';
import { selectorMatches } from '../index/labels.js';
import type { MeshIndex } from '../index/mesh-index.js';
import { effectiveMtls } from '../index/workload-policies.js';
import {
  adsConfigSource,
  BLACKHOLE_CLUSTER,
  duration,
  INBOUND_PASSTHROUGH_CLUSTER,
  type Init,
  inboundClusterName,
  outboundClusterName,
  PASSTHROUGH_CLUSTER,
  socketAddress,
  typed,
} from './envoy.js';
import { type BoundPatch, patchRouteConfiguration } from './envoy-filter.js';
import { buildHcm, HCM_FILTER, ROUTER_FILTER } from './hcm.js';
import { destinationCluster, type RouteContext } from './http-route.js';
import { gatewayRouteName, grpcRouteName, HTTP_PROXY_ROUTE, inboundRouteConfig } from './routes.js';
import type { InboundPort, ProxyScope } from './scope.js';
import { istioMutualDownstream, TLS_TRANSPORT_SOCKET } from './tls.js';

type FilterChainInit = Init<typeof ListenerSchema>['filterChains'] extends (infer T)[] | undefined
  ? T
  : never;

export const VIRTUAL_OUTBOUND = 'virtualOutbound';
export const VIRTUAL_INBOUND = 'virtualInbound';
export const OUTBOUND_CAPTURE_PORT = 15001;
export const INBOUND_CAPTURE_PORT = 15006;
const TCP_PROXY_FILTER = 'envoy.filters.network.tcp_proxy';

export interface ListenerBuildOptions {
  index: MeshIndex;
  scope: ProxyScope;
  patches: readonly BoundPatch[];
  /** Authentication/authorization HTTP filters for inbound chains (and gateways). */
  inboundHttpSecurity: (port: number) => HttpFilter[];
  /** Network filters enforcing authorization on inbound TCP chains (before tcp_proxy). */
  inboundTcpSecurity: (port: number) => { name: string; configType: { case: 'typedConfig'; value: Any } }[];
}

function tcpProxy(statPrefix: string, clusters: { name: string; weight: number }[], idleTimeout?: string) {
  const single = clusters.length === 1 ? clusters[0] : undefined;
  return {
    name: TCP_PROXY_FILTER,
    configType: {
      case: 'typedConfig' as const,
      value: typed(TcpProxySchema, {
        statPrefix,
        clusterSpecifier: single
          ? { case: 'cluster', value: single.name }
          : { case: 'weightedClusters', value: { clusters } },
        idleTimeout: duration(idleTimeout),
      }),
    },
  };
}

function hcmFilter(config: Any) {
  return { name: HCM_FILTER, configType: { case: 'typedConfig' as const, value: config } };
}

function listenerFilter(name: string, config: Any) {
  return { name, configType: { case: 'typedConfig' as const, value: config } };
}

function cidr(address: string) {
  return { addressPrefix: address, prefixLen: address.includes(':') ? 128 : 32 };
}

// --- outbound (sidecar) ---

function tcpRouteClusters(routes: (TCPRoute | TLSRoute)['route'], vs: VirtualService, ctx: RouteContext) {
  const list = (routes ?? []).filter(
    (r) => r.weight === undefined || r.weight > 0 || (routes ?? []).length === 1,
  );
  return list.map((r) => ({
    name: destinationCluster(r.destination, namespaceOf(vs), ctx),
    weight: r.weight ?? 100,
  }));
}

/** The TCP destination of a service port from its VirtualService `tcp` rules (first match wins) or the service itself. */
function tcpDestination(index: MeshIndex, scope: ProxyScope, svc: Service, port: number, gateway: string) {
  const bound = index.virtualServices.forHost(scope.proxy.namespace, svc.hostname);
  const ctx: RouteContext = { index, scope, port, gateway, vhostName: `${svc.hostname}:${port}` };
  for (const rule of bound?.vs.spec.tcp ?? []) {
    const applies =
      !rule.match ||
      rule.match.length === 0 ||
      rule.match.some(
        (m) =>
          (m.port === undefined || m.port === port) &&
          (!m.sourceLabels || selectorMatches(m.sourceLabels, scope.proxy.labels)) &&
          (!m.sourceNamespace || m.sourceNamespace === scope.proxy.namespace),
      );
    if (applies) return tcpRouteClusters(rule.route, bound!.vs, ctx);
  }
  return [{ name: outboundClusterName(port, '', svc.hostname), weight: 100 }];
}

function passthroughChain(scope: ProxyScope): FilterChainInit {
  const cluster = scope.outboundTrafficPolicy === 'REGISTRY_ONLY' ? BLACKHOLE_CLUSTER : PASSTHROUGH_CLUSTER;
  return { name: 'PassthroughFilterChain', filters: [tcpProxy(cluster, [{ name: cluster, weight: 100 }])] };
}

function outboundHcmChain(
  opts: ListenerBuildOptions,
  port: number,
  listenerName: string,
  rds: string,
  match: FilterChainInit['filterChainMatch'],
): FilterChainInit {
  return {
    filterChainMatch: match,
    filters: [
      hcmFilter(
        buildHcm({
          index: opts.index,
          proxy: opts.scope.proxy,
          direction: 'outbound',
          statPrefix: `outbound_0.0.0.0_${port}`,
          route: { rds },
          port,
          listenerName,
          patches: opts.patches,
        }),
      ),
    ],
  };
}

/** One bind_to_port:false listener per outbound port, handed connections by virtualOutbound's original destination. */
function outboundPortListener(opts: ListenerBuildOptions, port: number, services: Service[]): Listener {
  const { index, scope } = opts;
  const name = `0.0.0.0_${port}`;
  const chains: FilterChainInit[] = [];
  let sniff = false;
  let tls = false;
  const protocols = services.map((s) => s.ports.find((p) => p.port === port)!.protocol);
  const anyHttp = protocols.some((p) => isHttpProtocol(p));
  for (const svc of services) {
    const proto = svc.ports.find((p) => p.port === port)!.protocol;
    if (isHttpProtocol(proto)) continue;
    const dest = tcpDestination(index, scope, svc, port, 'mesh');
    if (proto === 'TLS' || proto === 'HTTPS') {
      tls = true;
      const bound = index.virtualServices.forHost(scope.proxy.namespace, svc.hostname);
      const ctx: RouteContext = { index, scope, port, gateway: 'mesh', vhostName: svc.hostname };
      for (const rule of bound?.vs.spec.tls ?? []) {
        for (const m of rule.match) {
          if (m.port !== undefined && m.port !== port) continue;
          chains.push({
            filterChainMatch: { serverNames: m.sniHosts, transportProtocol: 'tls' },
            filters: [
              tcpProxy(`outbound|${port}||${svc.hostname}`, tcpRouteClusters(rule.route, bound!.vs, ctx)),
            ],
          });
        }
      }
      chains.push({
        filterChainMatch: { serverNames: [svc.hostname], transportProtocol: 'tls' },
        filters: [tcpProxy(`outbound|${port}||${svc.hostname}`, dest)],
      });
      continue;
    }
    const ranges = svc.addresses.map(cidr);
    if (ranges.length === 0) continue; // a VIP-less TCP service cannot be told apart on a shared port
    if (proto === 'UNKNOWN') {
      sniff = true;
      chains.push(
        outboundHcmChain(opts, port, name, String(port), {
          prefixRanges: ranges,
          applicationProtocols: ['http/1.0', 'http/1.1', 'h2c'],
        }),
      );
    }
    chains.push({
      filterChainMatch: { prefixRanges: ranges },
      filters: [tcpProxy(`outbound|${port}||${svc.hostname}`, dest)],
    });
  }
  if (anyHttp) chains.push(outboundHcmChain(opts, port, name, String(port), undefined));
  return create(ListenerSchema, {
    name,
    address: socketAddress('0.0.0.0', port),
    bindToPort: false,
    trafficDirection: TrafficDirection.OUTBOUND,
    filterChains: chains,
    defaultFilterChain: anyHttp ? undefined : passthroughChain(scope),
    listenerFilters: [
      ...(tls ? [listenerFilter('envoy.filters.listener.tls_inspector', typed(TlsInspectorSchema, {}))] : []),
      ...(sniff
        ? [listenerFilter('envoy.filters.listener.http_inspector', typed(HttpInspectorSchema, {}))]
        : []),
    ],
    listenerFiltersTimeout: duration(index.mesh.protocolDetectionTimeout),
    continueOnListenerFiltersTimeout: true,
  });
}

function virtualOutbound(scope: ProxyScope): Listener {
  return create(ListenerSchema, {
    name: VIRTUAL_OUTBOUND,
    address: socketAddress('0.0.0.0', OUTBOUND_CAPTURE_PORT),
    useOriginalDst: true,
    trafficDirection: TrafficDirection.OUTBOUND,
    filterChains: [passthroughChain(scope)],
  });
}

function servicesByPort(scope: ProxyScope): Map<number, Service[]> {
  const byPort = new Map<number, Service[]>();
  for (const svc of scope.services) {
    for (const p of svc.ports) {
      const l = byPort.get(p.port);
      if (l) l.push(svc);
      else byPort.set(p.port, [svc]);
    }
  }
  return byPort;
}

// --- inbound (sidecar) ---

function patchedInboundRoutes(opts: ListenerBuildOptions, port: number, host: string | undefined) {
  const rc = inboundRouteConfig(port, host);
  patchRouteConfiguration(rc, opts.patches, { context: 'SIDECAR_INBOUND', port });
  return rc;
}

const HTTP_ALPN_PLAIN = ['http/1.0', 'http/1.1', 'h2c'];
const HTTP_ALPN_MTLS = ['istio-http/1.0', 'istio-http/1.1', 'istio-h2'];

function inboundChains(
  opts: ListenerBuildOptions,
  ip: InboundPort,
  listenerName: string,
  matchPort: boolean,
): FilterChainInit[] {
  const { index, scope } = opts;
  const mtls = effectiveMtls(index.config, scope.proxy, index.mesh.rootNamespace);
  const mode = mtls.ports.get(ip.port) ?? mtls.mode;
  const destinationPort = matchPort ? ip.port : undefined;
  const svcHost = ip.services[0]?.hostname;
  const http = () => [
    hcmFilter(
      buildHcm({
        index,
        proxy: scope.proxy,
        direction: 'inbound',
        statPrefix: `inbound_0.0.0.0_${ip.port}`,
        route: { inline: patchedInboundRoutes(opts, ip.port, svcHost) },
        port: ip.port,
        listenerName,
        patches: opts.patches,
        securityFilters: opts.inboundHttpSecurity(ip.port),
      }),
    ),
  ];
  const tcp = () => [
    ...opts.inboundTcpSecurity(ip.port),
    tcpProxy(inboundClusterName(ip.port), [{ name: inboundClusterName(ip.port), weight: 100 }]),
  ];
  const tlsSocket = (alpn: string[]) => ({
    name: TLS_TRANSPORT_SOCKET,
    configType: {
      case: 'typedConfig' as const,
      value: istioMutualDownstream({ alpn, requireClientCertificate: true }),
    },
  });
  const chains: FilterChainInit[] = [];
  const isHttp = isHttpProtocol(ip.protocol);
  const sniffed = ip.protocol === 'UNKNOWN';
  const alpnFor = (p: Protocol) =>
    p === 'HTTP2' || p === 'GRPC'
      ? ['istio-h2', 'h2']
      : p === 'HTTP'
        ? ['istio-http/1.1', 'http/1.1']
        : ['istio-http/1.1', 'istio-h2', 'istio'];
  if (mode !== 'DISABLE') {
    if (isHttp || sniffed) {
      chains.push({
        name: `${ip.port}-mtls-http`,
        filterChainMatch: {
          destinationPort,
          transportProtocol: 'tls',
          applicationProtocols: sniffed ? HTTP_ALPN_MTLS : [],
        },
        transportSocket: tlsSocket(alpnFor(ip.protocol)),
        filters: http(),
      });
    }
    if (!isHttp) {
      chains.push({
        name: `${ip.port}-mtls-tcp`,
        filterChainMatch: { destinationPort, transportProtocol: 'tls' },
        transportSocket: tlsSocket(['istio-peer-exchange', 'istio']),
        filters: tcp(),
      });
    }
  }
  if (mode !== 'STRICT') {
    if (isHttp || sniffed) {
      chains.push({
        name: `${ip.port}-plaintext-http`,
        filterChainMatch: {
          destinationPort,
          transportProtocol: 'raw_buffer',
          applicationProtocols: sniffed ? HTTP_ALPN_PLAIN : [],
        },
        filters: http(),
      });
    }
    if (!isHttp) {
      chains.push({
        name: `${ip.port}-plaintext-tcp`,
        filterChainMatch: { destinationPort, transportProtocol: 'raw_buffer' },
        filters: tcp(),
      });
    }
  }
  return chains;
}

/** Undeclared ports still reach the app, under the mesh/namespace mTLS mode (STRICT refuses their plaintext too). */
function inboundPassthroughChains(opts: ListenerBuildOptions): FilterChainInit[] {
  const { index, scope } = opts;
  const mode = effectiveMtls(index.config, scope.proxy, index.mesh.rootNamespace).mode;
  const filters = [
    tcpProxy(INBOUND_PASSTHROUGH_CLUSTER, [{ name: INBOUND_PASSTHROUGH_CLUSTER, weight: 100 }]),
  ];
  const chains: FilterChainInit[] = [];
  if (mode !== 'DISABLE') {
    chains.push({
      name: 'virtualInbound-mtls',
      filterChainMatch: { transportProtocol: 'tls' },
      transportSocket: {
        name: TLS_TRANSPORT_SOCKET,
        configType: {
          case: 'typedConfig',
          value: istioMutualDownstream({
            alpn: ['istio-peer-exchange', 'istio'],
            requireClientCertificate: true,
          }),
        },
      },
      filters,
    });
  }
  if (mode !== 'STRICT')
    chains.push({
      name: 'virtualInbound-plaintext',
      filterChainMatch: { transportProtocol: 'raw_buffer' },
      filters,
    });
  return chains;
}

function inboundListenerFilters(index: MeshIndex, originalDst: boolean) {
  return {
    listenerFilters: [
      ...(originalDst
        ? [listenerFilter('envoy.filters.listener.original_dst', typed(OriginalDstSchema, {}))]
        : []),
      listenerFilter('envoy.filters.listener.tls_inspector', typed(TlsInspectorSchema, {})),
      listenerFilter('envoy.filters.listener.http_inspector', typed(HttpInspectorSchema, {})),
    ],
    listenerFiltersTimeout: duration(index.mesh.protocolDetectionTimeout),
    continueOnListenerFiltersTimeout: true,
  };
}

function virtualInbound(opts: ListenerBuildOptions): Listener {
  const chains = opts.scope.inbound.flatMap((ip) => inboundChains(opts, ip, VIRTUAL_INBOUND, true));
  return create(ListenerSchema, {
    name: VIRTUAL_INBOUND,
    address: socketAddress('0.0.0.0', INBOUND_CAPTURE_PORT),
    trafficDirection: TrafficDirection.INBOUND,
    filterChains: [...chains, ...inboundPassthroughChains(opts)],
    ...inboundListenerFilters(opts.index, true),
  });
}

// --- host mode (no capture) ---

function hostModeListeners(opts: ListenerBuildOptions): Listener[] {
  const { scope } = opts;
  const ip = scope.proxy.ips[0] ?? '127.0.0.1';
  const out: Listener[] = [];
  if (scope.proxy.proxyHttpPort) {
    const name = `${ip}_${scope.proxy.proxyHttpPort}`;
    out.push(
      create(ListenerSchema, {
        name,
        address: socketAddress(ip, scope.proxy.proxyHttpPort),
        trafficDirection: TrafficDirection.OUTBOUND,
        filterChains: [outboundHcmChain(opts, scope.proxy.proxyHttpPort, name, HTTP_PROXY_ROUTE, undefined)],
      }),
    );
  }
  for (const inbound of scope.inbound) {
    const name = `${ip}_${inbound.port}`;
    out.push(
      create(ListenerSchema, {
        name,
        address: socketAddress(ip, inbound.port),
        trafficDirection: TrafficDirection.INBOUND,
        filterChains: inboundChains(opts, inbound, name, false),
        ...inboundListenerFilters(opts.index, false),
      }),
    );
  }
  return out;
}

// --- gateways ---

function gatewayTcpClusters(opts: ListenerBuildOptions, ref: string, port: number, tls: boolean) {
  const { index, scope } = opts;
  const chains: FilterChainInit[] = [];
  for (const bound of index.virtualServices.forGateway(ref)) {
    const ctx: RouteContext = {
      index,
      scope,
      port,
      gateway: ref,
      vhostName: `${bound.hosts[0] ?? '*'}:${port}`,
    };
    if (tls) {
      for (const rule of bound.vs.spec.tls ?? []) {
        for (const m of rule.match) {
          if (m.port !== undefined && m.port !== port) continue;
          if (
            m.gateways &&
            m.gateways.length > 0 &&
            !m.gateways.some((g) => g === ref || `${namespaceOf(bound.vs)}/${g}` === ref)
          )
            continue;
          chains.push({
            filterChainMatch: { serverNames: m.sniHosts, transportProtocol: 'tls' },
            filters: [tcpProxy(`gateway_${port}`, tcpRouteClusters(rule.route, bound.vs, ctx))],
          });
        }
      }
      continue;
    }
    for (const rule of bound.vs.spec.tcp ?? []) {
      const applies =
        !rule.match ||
        rule.match.length === 0 ||
        rule.match.some((m) => m.port === undefined || m.port === port);
      if (!applies) continue;
      chains.push({ filters: [tcpProxy(`gateway_${port}`, tcpRouteClusters(rule.route, bound.vs, ctx))] });
      return chains;
    }
  }
  return chains;
}

function gatewayListeners(opts: ListenerBuildOptions, gateways: readonly Gateway[]): Listener[] {
  const { index, scope } = opts;
  const byPort = new Map<number, { gw: Gateway; server: Gateway['spec']['servers'][number] }[]>();
  for (const gw of gateways) {
    for (const server of gw.spec.servers) {
      const l = byPort.get(server.port.number) ?? [];
      l.push({ gw, server });
      byPort.set(server.port.number, l);
    }
  }
  const out: Listener[] = [];
  for (const [port, servers] of [...byPort.entries()].sort((a, b) => a[0] - b[0])) {
    const bindPort = scope.proxy.gatewayPortMap[String(port)] ?? port;
    const bindAddress = scope.proxy.gatewayBindAddress ?? '0.0.0.0';
    const name = `${bindAddress}_${port}`;
    const chains: FilterChainInit[] = [];
    for (const { gw, server } of servers) {
      const proto = server.port.protocol.toUpperCase();
      const ref = gatewayRef(gw);
      const hcm = () =>
        hcmFilter(
          buildHcm({
            index,
            proxy: scope.proxy,
            direction: 'gateway',
            statPrefix: `outbound_0.0.0.0_${port}`,
            route: { rds: gatewayRouteName(port) },
            port,
            listenerName: name,
            patches: opts.patches,
            securityFilters: opts.inboundHttpSecurity(port),
          }),
        );
      const serverHosts = server.hosts.map((h) => (h.includes('/') ? h.slice(h.indexOf('/') + 1) : h));
      if (proto === 'HTTP' || proto === 'HTTP2' || proto === 'GRPC') {
        if (!chains.some((c) => c.name === 'http')) chains.push({ name: 'http', filters: [hcm()] });
      } else if (
        proto === 'HTTPS' &&
        server.tls?.mode !== 'PASSTHROUGH' &&
        server.tls?.mode !== 'AUTO_PASSTHROUGH'
      ) {
        chains.push({
          name: `https.${port}.${ref}`,
          filterChainMatch: { serverNames: serverHosts.filter((h) => h !== '*'), transportProtocol: 'tls' },
          transportSocket: {
            name: TLS_TRANSPORT_SOCKET,
            configType: {
              case: 'typedConfig',
              value: typed(DownstreamTlsContextSchema, {
                requireClientCertificate: server.tls?.mode === 'MUTUAL',
                commonTlsContext: {
                  tlsCertificates:
                    server.tls?.serverCertificate && server.tls.privateKey
                      ? [
                          {
                            certificateChain: {
                              specifier: { case: 'filename', value: server.tls.serverCertificate },
                            },
                            privateKey: { specifier: { case: 'filename', value: server.tls.privateKey } },
                          },
                        ]
                      : [],
                  validationContextType: server.tls?.caCertificates
                    ? {
                        case: 'validationContext',
                        value: {
                          trustedCa: { specifier: { case: 'filename', value: server.tls.caCertificates } },
                        },
                      }
                    : { case: undefined },
                  alpnProtocols: ['h2', 'http/1.1'],
                },
              }),
            },
          },
          filters: [hcm()],
        });
      } else {
        chains.push(...gatewayTcpClusters(opts, ref, port, proto === 'TLS' || proto === 'HTTPS'));
      }
    }
    if (chains.length === 0) continue;
    const needsTls = chains.some((c) => c.filterChainMatch?.transportProtocol === 'tls');
    out.push(
      create(ListenerSchema, {
        name,
        address: socketAddress(bindAddress, bindPort),
        trafficDirection: TrafficDirection.OUTBOUND,
        filterChains: chains,
        listenerFilters: needsTls
          ? [listenerFilter('envoy.filters.listener.tls_inspector', typed(TlsInspectorSchema, {}))]
          : [],
      }),
    );
  }
  return out;
}

// --- proxyless gRPC ---

/** gRPC clients dial `xds:///<host>:<port>` and ask for a listener by exactly that name; aliases included. */
export function grpcListenerNames(svc: Service, port: number, clientNamespace: string): string[] {
  const names = [`${svc.hostname}:${port}`];
  if (svc.source === 'kubernetes') {
    const short = svc.hostname.slice(0, svc.hostname.indexOf(`.${svc.namespace}.svc.`));
    if (short) {
      names.push(`${short}.${svc.namespace}.svc:${port}`, `${short}.${svc.namespace}:${port}`);
      if (svc.namespace === clientNamespace) names.push(`${short}:${port}`);
    }
  }
  return names;
}

function grpcListeners(opts: ListenerBuildOptions): Listener[] {
  const out: Listener[] = [];
  for (const svc of opts.scope.services) {
    if (svc.resolution !== 'STATIC') continue;
    for (const p of svc.ports) {
      if (!isHttpProtocol(p.protocol) && p.protocol !== 'UNKNOWN') continue;
      for (const name of grpcListenerNames(svc, p.port, opts.scope.proxy.namespace)) {
        out.push(
          create(ListenerSchema, {
            name,
            apiListener: {
              apiListener: typed(HttpConnectionManagerSchema, {
                statPrefix: name,
                routeSpecifier: {
                  case: 'rds',
                  value: { configSource: adsConfigSource(), routeConfigName: grpcRouteName(svc, p.port) },
                },
                httpFilters: [
                  {
                    name: ROUTER_FILTER,
                    configType: { case: 'typedConfig', value: typed(RouterSchema, {}) },
                  },
                ],
              }),
            },
          }),
        );
      }
    }
  }
  return out;
}

export function buildListeners(opts: ListenerBuildOptions): Listener[] {
  const { scope, index } = opts;
  const proxy = scope.proxy;
  if (proxy.type === 'grpc') return grpcListeners(opts);
  if (proxy.type === 'router') return gatewayListeners(opts, index.gateways.forProxy(proxy.labels));
  if (proxy.interceptionMode === 'NONE') return hostModeListeners(opts);
  const out: Listener[] = [virtualOutbound(scope), virtualInbound(opts)];
  for (const [port, services] of [...servicesByPort(scope).entries()].sort((a, b) => a[0] - b[0])) {
    out.push(outboundPortListener(opts, port, services));
  }
  return out;
}
