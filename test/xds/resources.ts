// Hand-written Envoy resources for xDS tests: EDS clusters, load assignments, HCM listeners, route configs.

import type { MessageInitShape } from '@bufbuild/protobuf';
import { create } from '@bufbuild/protobuf';
import { encodeResource } from '../../src/controlplane/server/resource.js';
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
import type {
  HeaderMatcherSchema,
  RouteSchema,
} from '../../src/xds/gen/envoy/config/route/v3/route_components_pb.js';
import {
  type RouteConfiguration,
  RouteConfigurationSchema,
} from '../../src/xds/gen/envoy/config/route/v3/route_pb.js';
import { RouterSchema } from '../../src/xds/gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import { HttpConnectionManagerSchema } from '../../src/xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';

const ads = { configSourceSpecifier: { case: 'ads' as const, value: {} } };

export function edsCluster(
  name: string,
  opts: { connectTimeoutMs?: number; serviceName?: string } = {},
): Cluster {
  const ms = opts.connectTimeoutMs ?? 1000;
  return create(ClusterSchema, {
    name,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
    edsClusterConfig: { edsConfig: ads, serviceName: opts.serviceName ?? name },
    connectTimeout: { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 },
    lbPolicy: Cluster_LbPolicy.ROUND_ROBIN,
  });
}

export interface EndpointAddress {
  address: string;
  port: number;
}

/** One locality with a weight (gRPC drops localities without one) and HEALTHY endpoints. */
export function loadAssignment(
  clusterName: string,
  endpoints: readonly EndpointAddress[],
): ClusterLoadAssignment {
  return create(ClusterLoadAssignmentSchema, {
    clusterName,
    endpoints: [
      {
        locality: { region: 'local', zone: 'a' },
        loadBalancingWeight: 1,
        lbEndpoints: endpoints.map((e) => ({
          healthStatus: 1,
          hostIdentifier: {
            case: 'endpoint' as const,
            value: {
              address: {
                address: {
                  case: 'socketAddress' as const,
                  value: { address: e.address, portSpecifier: { case: 'portValue' as const, value: e.port } },
                },
              },
            },
          },
        })),
      },
    ],
  });
}

function hcm(routeConfigName: string) {
  return pack(HttpConnectionManagerSchema, {
    statPrefix: routeConfigName,
    routeSpecifier: { case: 'rds', value: { configSource: ads, routeConfigName } },
    httpFilters: [
      {
        name: 'envoy.filters.http.router',
        configType: { case: 'typedConfig', value: pack(RouterSchema, {}) },
      },
    ],
  });
}

/** A listener as gRPC's xDS client wants it: named `<host>:<port>`, an api_listener HCM with RDS. */
export function apiListener(name: string, routeConfigName: string): Listener {
  return create(ListenerSchema, { name, apiListener: { apiListener: hcm(routeConfigName) } });
}

/** An outbound HTTP listener as the sidecar gets it: `0.0.0.0_<port>`, one chain, HCM with RDS. */
export function httpListener(port: number, routeConfigName = String(port)): Listener {
  return create(ListenerSchema, {
    name: `0.0.0.0_${port}`,
    address: {
      address: {
        case: 'socketAddress',
        value: { address: '0.0.0.0', portSpecifier: { case: 'portValue', value: port } },
      },
    },
    filterChains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            configType: { case: 'typedConfig', value: hcm(routeConfigName) },
          },
        ],
      },
    ],
  });
}

export type RouteTarget = { cluster: string } | { weighted: { name: string; weight: number }[] };

export interface SimpleRoute {
  /** Exact value of a header the request must carry. */
  header?: { name: string; exact: string };
  to: RouteTarget;
}

function action(to: RouteTarget): MessageInitShape<typeof RouteSchema>['action'] {
  if ('cluster' in to)
    return { case: 'route', value: { clusterSpecifier: { case: 'cluster', value: to.cluster } } };
  return {
    case: 'route',
    value: {
      clusterSpecifier: {
        case: 'weightedClusters',
        value: { clusters: to.weighted.map((w) => ({ name: w.name, weight: w.weight })) },
      },
    },
  };
}

function route(r: SimpleRoute, index: number): MessageInitShape<typeof RouteSchema> {
  const headers: MessageInitShape<typeof HeaderMatcherSchema>[] = r.header
    ? [
        {
          name: r.header.name,
          headerMatchSpecifier: {
            case: 'stringMatch',
            value: { matchPattern: { case: 'exact', value: r.header.exact } },
          },
        },
      ]
    : [];
  return {
    name: `route-${index}`,
    match: { pathSpecifier: { case: 'prefix', value: '' }, headers },
    action: action(r.to),
  };
}

/** One virtual host; every route matches any path (`prefix: ""`, which gRPC requires). */
export function routeConfig(
  name: string,
  domains: string[],
  routes: readonly SimpleRoute[],
): RouteConfiguration {
  return create(RouteConfigurationSchema, {
    name,
    virtualHosts: [{ name: `${name}-vhost`, domains, routes: routes.map(route) }],
  });
}

export const encode = {
  cluster: (m: Cluster) => encodeResource(ClusterSchema, m),
  endpoint: (m: ClusterLoadAssignment) => encodeResource(ClusterLoadAssignmentSchema, m),
  listener: (m: Listener) => encodeResource(ListenerSchema, m),
  route: (m: RouteConfiguration) => encodeResource(RouteConfigurationSchema, m),
};
