// Synthesizes an Istio-shaped mesh of M services as Envoy resources: clusters with mTLS matches and metadata,
// endpoints with workload metadata, per-port route configs with every domain Istio emits, HCM listeners.

import { create } from '@bufbuild/protobuf';
import { type EncodedResource, encodeResource } from '../../src/controlplane/server/resource.js';
import { Snapshot } from '../../src/controlplane/server/snapshot.js';
import { pack } from '../../src/xds/any.js';
import {
  type Cluster,
  Cluster_DiscoveryType,
  Cluster_LbPolicy,
  ClusterSchema,
} from '../../src/xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import {
  type ClusterLoadAssignment,
  ClusterLoadAssignmentSchema,
} from '../../src/xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { type Listener, ListenerSchema } from '../../src/xds/gen/envoy/config/listener/v3/listener_pb.js';
import {
  type RouteConfiguration,
  RouteConfigurationSchema,
} from '../../src/xds/gen/envoy/config/route/v3/route_pb.js';
import { RouterSchema } from '../../src/xds/gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import { HttpConnectionManagerSchema } from '../../src/xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { UpstreamTlsContextSchema } from '../../src/xds/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { HttpProtocolOptionsSchema } from '../../src/xds/gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import { HTTP_PROTOCOL_OPTIONS_TYPE } from '../../src/xds/type-urls.js';

export const PORTS = [8080, 9080, 8000, 3000, 5000, 7000, 8888, 9090, 9000, 6000];
const ads = { configSourceSpecifier: { case: 'ads' as const, value: {} } };

export interface Service {
  readonly index: number;
  readonly name: string;
  readonly namespace: string;
  readonly host: string;
  readonly port: number;
  readonly vip: string;
  readonly cluster: string;
}

export function services(count: number, namespaces = 10): Service[] {
  return Array.from({ length: count }, (_, index) => {
    const name = `svc-${index}`;
    const namespace = `ns-${index % namespaces}`;
    const host = `${name}.${namespace}.svc.cluster.local`;
    const port = PORTS[index % PORTS.length]!;
    return {
      index,
      name,
      namespace,
      host,
      port,
      vip: `10.96.${index >> 8}.${index & 255}`,
      cluster: `outbound|${port}||${host}`,
    };
  });
}

export function cluster(s: Service, connectTimeoutSeconds = 10): Cluster {
  const tls = pack(UpstreamTlsContextSchema, {
    commonTlsContext: {
      tlsCertificateSdsSecretConfigs: [{ name: 'default', sdsConfig: ads }],
      validationContextType: {
        case: 'combinedValidationContext',
        value: {
          defaultValidationContext: {
            matchTypedSubjectAltNames: [
              {
                sanType: 4,
                matcher: {
                  matchPattern: {
                    case: 'exact',
                    value: `spiffe://cluster.local/ns/${s.namespace}/sa/${s.name}`,
                  },
                },
              },
            ],
          },
          validationContextSdsSecretConfig: { name: 'ROOTCA', sdsConfig: ads },
        },
      },
      alpnProtocols: ['istio-peer-exchange', 'istio', 'h2'],
    },
    sni: `outbound_.${s.port}_._.${s.host}`,
  });
  return create(ClusterSchema, {
    name: s.cluster,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
    edsClusterConfig: { edsConfig: ads, serviceName: s.cluster },
    connectTimeout: { seconds: BigInt(connectTimeoutSeconds) },
    lbPolicy: Cluster_LbPolicy.LEAST_REQUEST,
    circuitBreakers: {
      thresholds: [
        {
          maxConnections: 4294967295,
          maxPendingRequests: 4294967295,
          maxRequests: 4294967295,
          maxRetries: 4294967295,
        },
      ],
    },
    commonLbConfig: {},
    typedExtensionProtocolOptions: {
      [HTTP_PROTOCOL_OPTIONS_TYPE]: pack(HttpProtocolOptionsSchema, {
        upstreamProtocolOptions: { case: 'useDownstreamProtocolConfig', value: {} },
      }),
    },
    transportSocketMatches: [
      {
        name: 'tlsMode-istio',
        match: { tlsMode: 'istio' },
        transportSocket: {
          name: 'envoy.transport_sockets.tls',
          configType: { case: 'typedConfig', value: tls },
        },
      },
      {
        name: 'tlsMode-disabled',
        match: {},
        transportSocket: { name: 'envoy.transport_sockets.raw_buffer' },
      },
    ],
    metadata: {
      filterMetadata: {
        istio: {
          services: [{ host: s.host, name: s.name, namespace: s.namespace }],
          default_original_port: s.port,
        },
      },
    },
  });
}

/** `pods` endpoints in one locality; `generation` shifts the addresses (a rollout). */
export function loadAssignment(s: Service, pods = 3, generation = 0): ClusterLoadAssignment {
  return create(ClusterLoadAssignmentSchema, {
    clusterName: s.cluster,
    endpoints: [
      {
        locality: { region: 'us-east1', zone: 'us-east1-b' },
        loadBalancingWeight: pods,
        lbEndpoints: Array.from({ length: pods }, (_, p) => ({
          healthStatus: 1,
          loadBalancingWeight: 1,
          metadata: {
            filterMetadata: {
              istio: { workload: `${s.name}-v1;${s.namespace};${s.name};v1;Kubernetes` },
              'envoy.transport_socket_match': { tlsMode: 'istio' },
            },
          },
          hostIdentifier: {
            case: 'endpoint' as const,
            value: {
              address: {
                address: {
                  case: 'socketAddress' as const,
                  value: {
                    address: `10.${1 + ((s.index >> 8) & 127)}.${s.index & 255}.${(p + generation * pods) % 250}`,
                    portSpecifier: { case: 'portValue' as const, value: s.port },
                  },
                },
              },
            },
          },
        })),
      },
    ],
    policy: { overprovisioningFactor: 140 },
  });
}

function domains(s: Service): string[] {
  const short = [s.host, s.name, `${s.name}.${s.namespace}`, `${s.name}.${s.namespace}.svc`, s.vip];
  return short.flatMap((d) => [d, `${d}:${s.port}`]);
}

/** One route config per port, as Istio names them (`"9080"`), a virtual host per service on that port. */
export function routeConfig(port: number, all: readonly Service[], timeoutSeconds = 0): RouteConfiguration {
  return create(RouteConfigurationSchema, {
    name: String(port),
    validateClusters: false,
    virtualHosts: all
      .filter((s) => s.port === port)
      .map((s) => ({
        name: `${s.host}:${port}`,
        domains: domains(s),
        includeRequestAttemptCount: true,
        routes: [
          {
            name: 'default',
            match: { pathSpecifier: { case: 'prefix' as const, value: '/' } },
            decorator: { operation: `${s.host}:${port}/*` },
            action: {
              case: 'route' as const,
              value: {
                clusterSpecifier: { case: 'cluster' as const, value: s.cluster },
                timeout: { seconds: BigInt(timeoutSeconds) },
                retryPolicy: {
                  retryOn: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
                  numRetries: 2,
                  hostSelectionRetryMaxAttempts: 5n,
                },
                maxStreamDuration: {
                  maxStreamDuration: { seconds: 0n },
                  grpcTimeoutHeaderMax: { seconds: 0n },
                },
              },
            },
          },
        ],
      })),
  });
}

function hcmChain(port: number) {
  return {
    filters: [
      {
        name: 'envoy.filters.network.http_connection_manager',
        configType: {
          case: 'typedConfig' as const,
          value: pack(HttpConnectionManagerSchema, {
            statPrefix: `outbound_0.0.0.0_${port}`,
            routeSpecifier: { case: 'rds', value: { configSource: ads, routeConfigName: String(port) } },
            httpFilters: [
              {
                name: 'envoy.filters.http.router',
                configType: { case: 'typedConfig', value: pack(RouterSchema, {}) },
              },
            ],
          }),
        },
      },
    ],
  };
}

export function listener(port: number): Listener {
  return create(ListenerSchema, {
    name: `0.0.0.0_${port}`,
    address: {
      address: {
        case: 'socketAddress',
        value: { address: '0.0.0.0', portSpecifier: { case: 'portValue', value: port } },
      },
    },
    bindToPort: false,
    filterChains: [hcmChain(port)],
  });
}

/** A group-specific listener (stands in for the inbound side, which differs per workload group). */
export function inboundListener(group: string): Listener {
  return create(ListenerSchema, {
    name: 'virtualInbound',
    statPrefix: group,
    address: {
      address: {
        case: 'socketAddress',
        value: { address: '0.0.0.0', portSpecifier: { case: 'portValue', value: 15006 } },
      },
    },
    filterChains: [hcmChain(15006)],
  });
}

/** The mesh's resources as message objects: shared by every group, so each is encoded once. */
export interface Mesh {
  readonly services: Service[];
  clusters: Map<string, EncodedResource>;
  endpoints: Map<string, EncodedResource>;
  routes: Map<string, EncodedResource>;
  listeners: Map<string, EncodedResource>;
}

export function buildMesh(count: number): Mesh {
  const all = services(count);
  const ports = PORTS.filter((p) => all.some((s) => s.port === p));
  return {
    services: all,
    clusters: new Map(all.map((s) => [s.cluster, encodeResource(ClusterSchema, cluster(s))])),
    endpoints: new Map(
      all.map((s) => [s.cluster, encodeResource(ClusterLoadAssignmentSchema, loadAssignment(s))]),
    ),
    routes: new Map(
      ports.map((p) => [String(p), encodeResource(RouteConfigurationSchema, routeConfig(p, all))]),
    ),
    listeners: new Map(ports.map((p) => [`0.0.0.0_${p}`, encodeResource(ListenerSchema, listener(p))])),
  };
}

export function groupSnapshot(mesh: Mesh, group: string, inbound: Map<string, EncodedResource>): Snapshot {
  let own = inbound.get(group);
  if (!own) {
    own = encodeResource(ListenerSchema, inboundListener(group));
    inbound.set(group, own);
  }
  return Snapshot.create([
    ...mesh.clusters.values(),
    ...mesh.endpoints.values(),
    ...mesh.routes.values(),
    ...mesh.listeners.values(),
    own,
  ]);
}
