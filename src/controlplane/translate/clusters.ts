// CDS: outbound clusters per service port and subset, inbound clusters per workload port, and the fixed ones.

import { create, type JsonObject } from '@bufbuild/protobuf';
import type { DestinationRule, TrafficPolicy } from '../../api/types/index.js';
import type { Protocol, Service, ServicePort } from '../../registry/model.js';
import { RETRY_BUDGET_METADATA_KEY } from '../../shared/retry-budget.js';
import {
  type Cluster,
  Cluster_CommonLbConfig_LocalityWeightedLbConfigSchema,
  Cluster_DiscoveryType,
  Cluster_LbPolicy,
  ClusterSchema,
} from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { HTTP_PROTOCOL_OPTIONS_TYPE } from '../../xds/type-urls.js';
import { configPath } from '../index/config-index.js';
import { type EffectiveDestinationRule, effectiveTrafficPolicy } from '../index/destination-rule-index.js';
import type { MeshIndex } from '../index/mesh-index.js';
import { effectiveMtls } from '../index/workload-policies.js';
import {
  type ClusterInit,
  circuitBreakers,
  httpProtocolOptions,
  loadBalancerFields,
  outlierFields,
  retryBudgetMetadataFor,
  tcpKeepalive,
  upstreamHttpFor,
} from './cluster-policy.js';
import {
  adsConfigSource,
  BLACKHOLE_CLUSTER,
  duration,
  INBOUND_PASSTHROUGH_CLUSTER,
  inboundClusterName,
  istioSni,
  outboundClusterName,
  PASSTHROUGH_CLUSTER,
  socketAddress,
  spiffeId,
} from './envoy.js';
import type { ProxyScope } from './scope.js';
import { istioMutualUpstream, originationUpstream, TLS_TRANSPORT_SOCKET } from './tls.js';

export function destinationRuleFor(
  index: MeshIndex,
  scope: ProxyScope,
  svc: Service,
): EffectiveDestinationRule | undefined {
  return index.destinationRules.lookup({
    proxyNamespace: scope.proxy.namespace,
    proxyLabels: scope.proxy.labels,
    host: svc.hostname,
    serviceNamespace: svc.namespace,
  });
}

/** Secure naming: the SPIFFE identities allowed to serve `svc` (ServiceEntry subjectAltNames, else its pods' accounts). */
export function serviceIdentities(index: MeshIndex, svc: Service): string[] {
  if (svc.subjectAltNames && svc.subjectAltNames.length > 0) return svc.subjectAltNames;
  return index.services.serviceAccounts(svc.hostname).map((nsSa) => {
    const [ns, sa] = nsSa.split('/');
    return spiffeId(index.mesh.trustDomain, ns ?? '', sa ?? '');
  });
}

function clusterMetadata(
  svc: Service,
  port: number,
  subset: string,
  dr: DestinationRule | undefined,
  budget: JsonObject | undefined,
) {
  const istio: JsonObject = {
    services: [{ host: svc.hostname, name: svc.name, namespace: svc.namespace }],
    default_original_port: port,
  };
  if (subset) istio.subset = subset;
  if (dr) istio.config = configPath(dr);
  const filterMetadata: Record<string, JsonObject> = { istio };
  if (budget) filterMetadata[RETRY_BUDGET_METADATA_KEY] = budget;
  return { filterMetadata };
}

function tlsFields(opts: {
  index: MeshIndex;
  svc: Service;
  policy: TrafficPolicy | undefined;
  port: ServicePort;
  subset: string;
  /** Proxyless gRPC clients get plaintext unless a DestinationRule asks for TLS (they need xDS credentials). */
  proxyless: boolean;
}): Partial<ClusterInit> {
  const { index, svc, policy, port, subset } = opts;
  const tls = policy?.tls;
  const sni = istioSni(port.port, subset, svc.hostname);
  if (tls?.mode === 'DISABLE') return {};
  if (tls?.mode === 'SIMPLE' || tls?.mode === 'MUTUAL') {
    return {
      transportSocket: {
        name: TLS_TRANSPORT_SOCKET,
        configType: {
          case: 'typedConfig',
          value: originationUpstream(tls, svc.location === 'MESH_EXTERNAL' ? svc.hostname : undefined),
        },
      },
    };
  }
  const mtls = () =>
    istioMutualUpstream({
      sans:
        tls?.subjectAltNames && tls.subjectAltNames.length > 0
          ? tls.subjectAltNames
          : serviceIdentities(index, svc),
      sni: tls?.sni ?? sni,
      protocol: port.protocol,
    });
  if (tls?.mode === 'ISTIO_MUTUAL') {
    return {
      transportSocket: { name: TLS_TRANSPORT_SOCKET, configType: { case: 'typedConfig', value: mtls() } },
    };
  }
  if (!index.mesh.enableAutoMtls || svc.location === 'MESH_EXTERNAL' || opts.proxyless) return {};
  // A destination namespace that disables mTLS gets plaintext even from auto mTLS, as in Istio.
  if (
    effectiveMtls(index.config, { namespace: svc.namespace, labels: {} }, index.mesh.rootNamespace).mode ===
    'DISABLE'
  )
    return {};
  return {
    transportSocketMatches: [
      {
        name: 'tlsMode-istio',
        match: { tlsMode: 'istio' },
        transportSocket: { name: TLS_TRANSPORT_SOCKET, configType: { case: 'typedConfig', value: mtls() } },
      },
      {
        name: 'tlsMode-disabled',
        match: {},
        transportSocket: { name: 'envoy.transport_sockets.raw_buffer' },
      },
    ],
  };
}

function discoveryFields(
  svc: Service,
  name: string,
  policy: TrafficPolicy | undefined,
): Partial<ClusterInit> {
  if (svc.resolution === 'NONE' || policy?.loadBalancer?.simple === 'PASSTHROUGH') {
    return {
      clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.ORIGINAL_DST },
      lbPolicy: Cluster_LbPolicy.CLUSTER_PROVIDED,
    };
  }
  if (svc.resolution === 'DNS' || svc.resolution === 'DNS_ROUND_ROBIN') {
    return {
      clusterDiscoveryType: {
        case: 'type',
        value:
          svc.resolution === 'DNS' ? Cluster_DiscoveryType.STRICT_DNS : Cluster_DiscoveryType.LOGICAL_DNS,
      },
      // DNS clusters carry their (host name) endpoints inline; EDS cannot hold names.
      loadAssignment: { clusterName: name },
    };
  }
  return {
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
    edsClusterConfig: { edsConfig: adsConfigSource(), serviceName: name },
  };
}

export interface ClusterBuildOptions {
  index: MeshIndex;
  scope: ProxyScope;
  /** Endpoints inline for DNS clusters, filled by the endpoint builder (same function, so they never disagree). */
  dnsLoadAssignment: (
    svc: Service,
    port: ServicePort,
    subsetLabels: Record<string, string> | undefined,
    clusterName: string,
  ) => ClusterInit['loadAssignment'];
}

function outboundCluster(
  opts: ClusterBuildOptions,
  svc: Service,
  port: ServicePort,
  subsetName: string,
  rule: EffectiveDestinationRule | undefined,
): Cluster | undefined {
  const { index } = opts;
  const subset = subsetName ? rule?.spec.subsets?.find((s) => s.name === subsetName) : undefined;
  const policy = effectiveTrafficPolicy(rule?.spec, subset, port.port);
  const name = outboundClusterName(port.port, subsetName, svc.hostname);
  const discovery = discoveryFields(svc, name, policy);
  const upstream = upstreamHttpFor(port.protocol);
  const dr = rule?.sources[0];
  const budget = retryBudgetMetadataFor(policy, dr?.metadata.annotations);
  const init: ClusterInit = {
    name,
    connectTimeout: duration(policy?.connectionPool?.tcp?.connectTimeout ?? index.mesh.connectTimeout),
    circuitBreakers: circuitBreakers(policy),
    ...loadBalancerFields(policy),
    ...discovery,
    ...outlierFields(policy),
    ...tcpKeepalive(policy),
    ...tlsFields({
      index,
      svc,
      policy,
      port,
      subset: subsetName,
      proxyless: opts.scope.proxy.type === 'grpc',
    }),
    metadata: clusterMetadata(svc, port.port, subsetName, dr, budget),
  };
  if (upstream !== 'none') {
    init.typedExtensionProtocolOptions = {
      [HTTP_PROTOCOL_OPTIONS_TYPE.split('/')[1]!]: httpProtocolOptions(policy, upstream),
    };
  }
  if (
    init.clusterDiscoveryType?.case === 'type' &&
    init.clusterDiscoveryType.value !== Cluster_DiscoveryType.EDS &&
    init.clusterDiscoveryType.value !== Cluster_DiscoveryType.ORIGINAL_DST
  ) {
    init.loadAssignment = opts.dnsLoadAssignment(svc, port, subset?.labels, name);
  }
  const localityDistribute =
    policy?.loadBalancer?.localityLbSetting?.distribute ?? index.mesh.localityLbSetting?.distribute;
  if (localityDistribute && localityDistribute.length > 0) {
    init.commonLbConfig = {
      ...(init.commonLbConfig ?? {}),
      localityConfigSpecifier: {
        case: 'localityWeightedLbConfig',
        value: create(Cluster_CommonLbConfig_LocalityWeightedLbConfigSchema),
      },
    };
  }
  return create(ClusterSchema, init);
}

/** Outbound clusters: `outbound|port||host` for every visible service port, plus one per DestinationRule subset. */
export function buildOutboundClusters(opts: ClusterBuildOptions): Cluster[] {
  const out: Cluster[] = [];
  const grpc = opts.scope.proxy.type === 'grpc';
  for (const svc of opts.scope.services) {
    // gRPC's xDS client accepts only EDS (and LOGICAL_DNS/aggregate) clusters; registry-backed services only.
    if (grpc && svc.resolution !== 'STATIC') continue;
    const rule = destinationRuleFor(opts.index, opts.scope, svc);
    for (const port of svc.ports) {
      const main = outboundCluster(opts, svc, port, '', rule);
      if (main) out.push(main);
      for (const subset of rule?.spec.subsets ?? []) {
        const c = outboundCluster(opts, svc, port, subset.name, rule);
        if (c) out.push(c);
      }
    }
  }
  return out;
}

function inboundProtocolOptions(protocol: Protocol) {
  const upstream = upstreamHttpFor(protocol);
  return upstream === 'none'
    ? {}
    : { [HTTP_PROTOCOL_OPTIONS_TYPE.split('/')[1]!]: httpProtocolOptions(undefined, upstream) };
}

/** Inbound clusters `inbound|port||`: the app, on loopback inside the pod (or the app address in host mode). */
export function buildInboundClusters(opts: ClusterBuildOptions): Cluster[] {
  const { scope, index } = opts;
  return scope.inbound.map((ip) => {
    const address = ip.defaultEndpoint?.address || scope.proxy.appAddress;
    const port = ip.defaultEndpoint?.port ?? ip.port;
    return create(ClusterSchema, {
      name: inboundClusterName(ip.port),
      clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.STATIC },
      connectTimeout: duration(index.mesh.connectTimeout),
      lbPolicy: Cluster_LbPolicy.ROUND_ROBIN,
      circuitBreakers: circuitBreakers(undefined),
      loadAssignment: {
        clusterName: inboundClusterName(ip.port),
        endpoints: [
          {
            lbEndpoints: [
              { hostIdentifier: { case: 'endpoint', value: { address: socketAddress(address, port) } } },
            ],
          },
        ],
      },
      typedExtensionProtocolOptions: inboundProtocolOptions(ip.protocol),
      metadata: {
        filterMetadata: {
          istio: {
            services: ip.services.map((s) => ({ host: s.hostname, name: s.name, namespace: s.namespace })),
          },
        },
      },
    });
  });
}

/** The fixed clusters Istio always sends: passthrough to the original destination, and the black hole. */
export function buildFixedClusters(opts: ClusterBuildOptions): Cluster[] {
  const connectTimeout = duration(opts.index.mesh.connectTimeout);
  const list = [
    create(ClusterSchema, {
      name: BLACKHOLE_CLUSTER,
      clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.STATIC },
      connectTimeout,
      loadAssignment: { clusterName: BLACKHOLE_CLUSTER },
    }),
  ];
  if (opts.scope.proxy.type === 'grpc') return [];
  list.push(
    create(ClusterSchema, {
      name: PASSTHROUGH_CLUSTER,
      clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.ORIGINAL_DST },
      lbPolicy: Cluster_LbPolicy.CLUSTER_PROVIDED,
      connectTimeout,
      circuitBreakers: circuitBreakers(undefined),
      typedExtensionProtocolOptions: inboundProtocolOptions('UNKNOWN'),
    }),
  );
  if (opts.scope.proxy.type === 'sidecar') {
    list.push(
      create(ClusterSchema, {
        name: INBOUND_PASSTHROUGH_CLUSTER,
        clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.ORIGINAL_DST },
        lbPolicy: Cluster_LbPolicy.CLUSTER_PROVIDED,
        connectTimeout,
        circuitBreakers: circuitBreakers(undefined),
        typedExtensionProtocolOptions: inboundProtocolOptions('UNKNOWN'),
        // Envoy connects to the original destination; Istio binds 127.0.0.6 so iptables lets it through.
        upstreamBindConfig: {
          sourceAddress: { address: '127.0.0.6', portSpecifier: { case: 'portValue', value: 0 } },
        },
      }),
    );
  }
  return list;
}

export function buildClusters(opts: ClusterBuildOptions): Cluster[] {
  const list = [...buildOutboundClusters(opts), ...buildInboundClusters(opts), ...buildFixedClusters(opts)];
  return list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
